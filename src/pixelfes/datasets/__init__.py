"""Data sets: read KDEF, RaFD, JAFFE, CK+, London, paired folders, CSV manifests; align and cache.

``open_dataset(path)`` detects the layout and returns a :class:`Dataset`;
``Dataset.pairs(from_, to)`` gives same-person (identity, source, target) pairs;
``prepare`` aligns every image once into a cached folder that ``open_dataset`` reads back;
``load_pairs`` returns the aligned arrays a model trains on; ``split_identities`` keeps
every person on one side of a split.
"""

from __future__ import annotations

from ..splits import IdentitySplit, identity_folds, split_identities
from .base import Dataset, DatasetLayoutError, ImageRecord, Pair
from .prepare import (
    AlignedImage,
    FailedImageWarning,
    PairArrays,
    PrepareReport,
    align_image_file,
    load_pairs,
    prepare,
)
from .readers import LAYOUTS, detect_layout, open_dataset

__all__ = [
    "LAYOUTS",
    "AlignedImage",
    "Dataset",
    "DatasetLayoutError",
    "FailedImageWarning",
    "IdentitySplit",
    "ImageRecord",
    "Pair",
    "PairArrays",
    "PrepareReport",
    "align_image_file",
    "detect_layout",
    "identity_folds",
    "load_pairs",
    "open_dataset",
    "prepare",
    "split_identities",
]
