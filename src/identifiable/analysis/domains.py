"""Domain labels of web data from captions: the keyword prefilter of "In Search of Forgotten
Domain Generalization".

Mayilvahanan*, Zimmermann*, Wiedemer, Rusak, Juhos, Bethge, Brendel (2025), ICLR,
arXiv:2410.08258; the reference's ``src/data/text_filtering.py`` (brendel-group/clip-dg) marks a
caption as a candidate rendition when its lower-cased text contains any of a fixed set of
keywords as a substring (``" art"`` with its leading space, so "party" and "cart" do not match);
the candidates were then labelled by a trained domain classifier. The keyword set below is the
reference's.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["RENDITION_KEYWORDS", "rendition_captions"]

RENDITION_KEYWORDS: frozenset[str] = frozenset({
    "vignette", "depict", "sticker", "grafitti", "chalk_out", "cast", "scribble", "carving",
    "nontextual-matter", "pictorial", "engrave", "toon", "draw", "tracing", "videogame", "draft",
    "trace", "carve", "chalk-out", "doodling", "picture", "chalk out", "embellishment",
    "fancywork", "miniature", "gummed label", "in-writing", "nontextual_matter", "tattoo",
    "gummed_label", "embroidery", "origami", "gummed-label", "paint", "engraving", "doodle",
    "graphic", "in_writing", "sculpt", "sketch", " art", "in writing", "nontextual matter", "toy",
})  # fmt: skip


def rendition_captions(
    captions: Iterable[str], keywords: Iterable[str] = RENDITION_KEYWORDS
) -> np.ndarray:
    """Boolean per caption: its lower-cased text contains one of ``keywords`` (a substring)."""
    words = tuple(keywords)
    flags = []
    for caption in captions:
        if not isinstance(caption, str):
            raise ValueError(f"captions must be strings, got {type(caption).__name__}")
        text = caption.lower()
        flags.append(any(word in text for word in words))
    return np.asarray(flags, dtype=bool)
