"""The seven expression names pixelfes uses, and the aliases data sets spell them with."""

from __future__ import annotations

EXPRESSIONS: tuple[str, ...] = (
    "neutral",
    "happy",
    "sad",
    "angry",
    "surprised",
    "disgusted",
    "fearful",
)

_ALIASES: dict[str, str] = {
    # neutral
    "ne": "neutral", "neu": "neutral", "neutral": "neutral", "nes": "neutral", "n": "neutral",
    # happy
    "ha": "happy", "hap": "happy", "happy": "happy", "happiness": "happy", "smile": "happy",
    "smiling": "happy", "joy": "happy", "has": "happy",
    # sad
    "sa": "sad", "sad": "sad", "sadness": "sad", "sas": "sad",
    # angry
    "an": "angry", "ang": "angry", "angry": "angry", "anger": "angry", "ans": "angry",
    # surprised
    "su": "surprised", "sur": "surprised", "surprise": "surprised", "surprised": "surprised",
    "sus": "surprised",
    # disgusted
    "di": "disgusted", "dis": "disgusted", "disgust": "disgusted", "disgusted": "disgusted",
    "dis_": "disgusted",
    # fearful
    "fe": "fearful", "af": "fearful", "afs": "fearful", "fea": "fearful", "fear": "fearful",
    "fearful": "fearful", "afraid": "fearful",
}


def normalize_expression(name: str) -> str:
    """Return the canonical expression name for ``name`` (case-insensitive alias).

    Raises ``ValueError`` naming the accepted names when ``name`` is unknown.
    """
    key = str(name).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(
        f"unknown expression {name!r}; expected one of {', '.join(EXPRESSIONS)}"
    )
