"""Small pretrained nets ported to numpy: a tfjs weight reader, the layers, face-api's nets.

Importing loads no weights; :class:`pixelfes.nets.faceapi.FaceExpressionNet` reads its
vendored files when built.
"""

from pixelfes.nets.tfjs import TfjsWeightsError, read_weights

__all__ = ["TfjsWeightsError", "read_weights"]
