"""Scorers every pixelfes model is judged by: expression, identity, image quality and size.

Importing this package loads no model: the classifiers and dlib networks load on first use.
"""

from pixelfes.evaluate._faces import ScorerModelError
from pixelfes.evaluate.baselines import identity_baseline, mean_target_baseline
from pixelfes.evaluate.expression import (
    ExpressionBackendUnavailable,
    ExpressionClassifier,
    accuracy,
    confusion_matrix,
)
from pixelfes.evaluate.identity import (
    SAME_PERSON_THRESHOLD,
    IdentityEmbedder,
    identity_distance,
    rank1_identification,
)
from pixelfes.evaluate.mouth import (
    MouthComparison,
    MouthMeasure,
    compare_mouths,
    measure_mouth,
    mouth_regions,
    summarise_mouths,
)
from pixelfes.evaluate.protocol import (
    EvaluationError,
    ModelSpec,
    ProtocolResult,
    Scorers,
    evaluate_direction,
    kfold_splits,
    run_protocol,
)
from pixelfes.evaluate.quality import (
    gradient_energy,
    psnr,
    psnr_batch,
    sharpness_ratio,
    sharpness_ratio_batch,
    ssim,
    ssim_batch,
)
from pixelfes.evaluate.sizes import ModelSize, gan_parameter_counts, model_size

__all__ = [
    "EvaluationError",
    "ModelSpec",
    "ProtocolResult",
    "Scorers",
    "evaluate_direction",
    "kfold_splits",
    "run_protocol",
    "MouthComparison",
    "MouthMeasure",
    "compare_mouths",
    "measure_mouth",
    "mouth_regions",
    "summarise_mouths",
    "SAME_PERSON_THRESHOLD",
    "ExpressionBackendUnavailable",
    "ExpressionClassifier",
    "IdentityEmbedder",
    "ModelSize",
    "ScorerModelError",
    "accuracy",
    "confusion_matrix",
    "gan_parameter_counts",
    "gradient_energy",
    "identity_baseline",
    "identity_distance",
    "mean_target_baseline",
    "model_size",
    "psnr",
    "psnr_batch",
    "rank1_identification",
    "sharpness_ratio",
    "sharpness_ratio_batch",
    "ssim",
    "ssim_batch",
]
