"""Renditions of images: the same content in another style, for domain-generalisation worlds.

Mayilvahanan*, Zimmermann*, Wiedemer, Rusak, Juhos, Bethge, Brendel (2025), "In Search of Forgotten
Domain Generalization", ICLR, arXiv:2410.08258, split web images into "natural" photographs and
"renditions" (sketches, paintings, cartoons, …) of the same content. On small grey-scale images
(scikit-learn's 8×8 digits, :mod:`identifiable.worlds.digits`) two renditions stand in:

* ``"edges"`` (a sketch): the gradient magnitude by central differences,
  e(i, j) = √(((x(i, j+1) − x(i, j−1)) / 2)² + ((x(i+1, j) − x(i−1, j)) / 2)²) (zero on the
  border), scaled so each image's largest edge is 1 — strokes become outlines;
* ``"inverted"``: 1 − x (ink and paper swapped).

The content (the digit) is unchanged; a classifier trained on natural images alone sees a
different input distribution.
"""

from __future__ import annotations

import torch

__all__ = ["RENDITIONS", "render"]

RENDITIONS = ("edges", "inverted")


def render(x: torch.Tensor, kind: str = "edges", *, side: int = 8) -> torch.Tensor:
    """Rendition of images ``x`` (n, side·side) with pixels in [0, 1] (module docstring)."""
    if kind not in RENDITIONS:
        raise ValueError(f"rendition must be one of {', '.join(RENDITIONS)}, got {kind!r}")
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim != 2 or x.shape[1] != side * side:
        raise ValueError(f"images must be (n, {side * side}) rows, got shape {tuple(x.shape)}")
    if kind == "inverted":
        return 1.0 - x
    image = x.view(-1, side, side)
    gx = torch.zeros_like(image)
    gy = torch.zeros_like(image)
    gx[:, :, 1:-1] = (image[:, :, 2:] - image[:, :, :-2]) / 2
    gy[:, 1:-1, :] = (image[:, 2:, :] - image[:, :-2, :]) / 2
    magnitude = (gx**2 + gy**2).sqrt().reshape(len(x), -1)
    return magnitude / magnitude.amax(dim=1, keepdim=True).clamp_min(1e-6)
