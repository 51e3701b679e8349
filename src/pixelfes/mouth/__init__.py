"""A mouth interior that looks like a mouth: real teeth from a small bank of smiles.

Used by the native-resolution engine (:mod:`pixelfes.native`) and reusable by any engine
that opens lips (e.g. action units): call :func:`fill_mouth` with the image in any frame
(photo or crop), the new inner-lip outline in that frame and the person's colours
(:func:`person_colours`), after the face has been warped.
"""

from .bank import MouthBank, load_bank
from .close import close_mouth, shows_opening
from .colour import PersonColours, person_colours
from .fill import fill_mouth, inner_gap, mouth_frame

__all__ = ["MouthBank", "PersonColours", "close_mouth", "shows_opening", "fill_mouth", "inner_gap", "load_bank", "mouth_frame",
           "person_colours"]
