"""A deterministic embedding function for the store tests (``store.index.embed``)."""

from __future__ import annotations

import string
from collections.abc import Sequence


def letters(texts: Sequence[str]) -> list[list[float]]:
    """Bag of letters: how often each letter a to z occurs in each text (26 dimensions)."""
    return [[float(text.lower().count(c)) for c in string.ascii_lowercase] for text in texts]
