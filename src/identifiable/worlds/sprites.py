"""Sprites: procedurally rendered scenes of 1–4 coloured shapes, with per-object ground truth.

A DisLib-like image world generated in code (no downloads, no PIL): dSprites-style factors
(Matthey, Higgins, Hassabis, Lerchner (2017), "dSprites: Disentanglement testing Sprites dataset",
github.com/deepmind/dsprites-dataset) on a multi-object canvas as in Multi-dSprites (Burgess et
al. (2019), "MONet: Unsupervised Scene Decomposition and Representation", arXiv:1901.11390; Greff
et al. (2019), "Multi-Object Representation Learning with Iterative Variational Inference"
(IODINE), arXiv:1903.00450).

Factors, per object k = 1..K (all drawn independently and uniformly from their ranges):

==========  ========================  ====================================================
factor      range (default)           meaning
==========  ========================  ====================================================
shape       ``shapes`` (int label)    index into ``shapes`` (square, circle, triangle, ...)
position_x  [0.2, 0.8]                centre in canvas units, to the right
position_y  [0.2, 0.8]                centre in canvas units, *downward*
scale       [0.1, 0.2]                circumradius r as a fraction of the canvas side
rotation    [0, 2π)                   radians; positive turns the shape clockwise on screen
hue         [0, 1)                    HSV hue (circular: 0 and 1 are both red)
==========  ========================  ====================================================

Rendering (vectorised over the batch, the objects and the pixels; no Python loop over samples
or pixels). Pixel (i, j) has its centre at p = (j + ½, i + ½) in pixel units; object k has
centre c = (position_x·S, position_y·S), radius r = scale·S (S = ``image_size``) and local
coordinates q = R(θ)ᵀ(p − c). Each shape is a signed distance d(p) in pixels (< 0 inside):

    circle    ‖q‖ − r                    square    ‖q‖_∞ − r/√2   (corners on the circle)
    triangle  maxᵢ nᵢᵀq − r/2            (equilateral; outward edge normals nᵢ, one vertex up)
    ellipse   (h − r)·h / ‖(q₁, q₂/b²)‖  with h = ‖(q₁, q₂/b)‖, b = ½ (first-order distance)
    cross     min(max(|q₁|−r, |q₂|−w), max(|q₁|−w, |q₂|−r)),  w = r/3

Each half-plane nᵢᵀq (and each qᵢ) is a sum of a row term and a column term, so it costs one
broadcast add. Coverage α_k = clip(½ − d, 0, 1) (``occlusion="soft"``: a one-pixel anti-aliased
edge) or α_k = [d ≤ 0] (``"hard"``). Objects are composited in z-order, object K on top:

    m_k = α_k · Π_{j>k} (1 − α_j)          (visible, occlusion-aware mask of object k)
    m_0 = Π_k (1 − α_k)                     (background)
    image = m_0 · background + Σ_k m_k · rgb(hue_k, saturation, value)

so Σ_k m_k + m_0 = 1 at every pixel. HSV → RGB is the closed form
rgb_c = V − V·S·clip(min(t_c, 4 − t_c), 0, 1), t_c = (n_c + 6H) mod 6, n = (5, 3, 1).

Rotation is observable only modulo a shape's symmetry: ``SHAPE_SYMMETRY[shape]`` is the order
of its rotational symmetry (0 = continuous, the circle), so cos(kθ), sin(kθ) with that k is the
identifiable part of the rotation factor.

Names: the rendered images are the observations, ``batch.x`` (as in every world); the position
factors are ``position_x`` and ``position_y`` (never plain x/y, which would clash with ``.x``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch

__all__ = [
    "FACTORS",
    "SHAPES",
    "SHAPE_SYMMETRY",
    "SpritesBatch",
    "SpritesWorld",
    "hsv_to_rgb",
]

SHAPES = ("square", "circle", "triangle", "ellipse", "cross")
SHAPE_SYMMETRY = {"square": 4, "circle": 0, "triangle": 3, "ellipse": 2, "cross": 4}
#: The continuous factors, in the order of ``SpritesBatch.factors()``.
FACTORS = ("position_x", "position_y", "scale", "rotation", "hue")

_ELLIPSE_MINOR = 0.5  # minor/major axis ratio b of the ellipse
_CROSS_WIDTH = 1.0 / 3.0  # half-width of a cross arm, as a fraction of r
_CHUNK_PIXELS = 1 << 18  # pixels x objects rendered per chunk (keeps intermediates in cache)


class SpritesBatch(NamedTuple):
    """n scenes with K object slots each (absent slots have ``present`` False, an empty mask)."""

    x: torch.Tensor  # (n, 3, H, W) float32 in [0, 1]: the rendered images (the observations)
    masks: torch.Tensor  # (n, K, H, W) float32 visible masks m_k; background = 1 − masks.sum(1)
    shape: torch.Tensor  # (n, K) int64 index into SpritesWorld.shapes
    position_x: torch.Tensor  # (n, K) centre, canvas units, to the right
    position_y: torch.Tensor  # (n, K) centre, canvas units, downward
    scale: torch.Tensor  # (n, K) circumradius / canvas side
    rotation: torch.Tensor  # (n, K) radians
    hue: torch.Tensor  # (n, K) in [0, 1)
    present: torch.Tensor  # (n, K) bool

    def factors(self) -> torch.Tensor:
        """The continuous factors stacked as (n, K, 5) in ``FACTORS`` order."""
        return torch.stack([getattr(self, name) for name in FACTORS], dim=-1)


def hsv_to_rgb(hue: torch.Tensor, saturation: float = 1.0, value: float = 1.0) -> torch.Tensor:
    """RGB in [0, 1] of HSV colours, vectorised: shape (...,) -> (..., 3)."""
    n = torch.tensor([5.0, 3.0, 1.0], dtype=hue.dtype, device=hue.device)
    t = torch.remainder(n + 6.0 * hue.unsqueeze(-1), 6.0)
    return value - value * saturation * torch.minimum(t, 4.0 - t).clamp(0.0, 1.0)


def _check_range(name: str, bounds: tuple[float, float], low: float, high: float) -> None:
    ok = (
        isinstance(bounds, tuple | list)
        and len(bounds) == 2
        and all(isinstance(b, int | float) and math.isfinite(b) for b in bounds)
    )
    if not ok or not low <= bounds[0] <= bounds[1] <= high:
        raise ValueError(
            f"{name} must be a pair (low, high) with {low} <= low <= high <= {high}, got {bounds!r}"
        )


@dataclass(frozen=True)
class SpritesWorld:
    """Scenes of ``n_objects`` sprites on a ``image_size``² canvas; see the module docstring.

    image_size:     canvas side S in pixels (square canvas), ≥ 8.
    n_objects:      object slots K per scene (1–8).
    min_objects:    if set, each scene shows a uniform number of objects in
                    [min_objects, n_objects] (the first ones; the rest are absent); None = always K.
    shapes:         shape names drawn uniformly, a subset of ``SHAPES``; labels index this tuple.
    position_x_range, position_y_range, scale_range, rotation_range, hue_range: factor ranges
                    (see the table).
    saturation, value: HSV saturation and value of every object's colour, in [0, 1].
    background:     RGB of the background, each in [0, 1].
    occlusion:      ``"soft"`` (anti-aliased edges, alpha compositing) or ``"hard"`` (binary).

    >>> world = SpritesWorld(image_size=64, n_objects=3)
    >>> batch = world.sample(16, generator=torch.Generator().manual_seed(0))
    >>> batch.x.shape, batch.masks.shape
    (torch.Size([16, 3, 64, 64]), torch.Size([16, 3, 64, 64]))
    """

    image_size: int = 64
    n_objects: int = 1
    min_objects: int | None = None
    shapes: tuple[str, ...] = ("square", "circle", "triangle")
    position_x_range: tuple[float, float] = (0.2, 0.8)
    position_y_range: tuple[float, float] = (0.2, 0.8)
    scale_range: tuple[float, float] = (0.1, 0.2)
    rotation_range: tuple[float, float] = (0.0, 2 * math.pi)
    hue_range: tuple[float, float] = (0.0, 1.0)
    saturation: float = 1.0
    value: float = 1.0
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    occlusion: Literal["soft", "hard"] = "soft"

    def __post_init__(self) -> None:
        if not isinstance(self.image_size, int) or self.image_size < 8:
            raise ValueError(f"image_size must be an int >= 8, got {self.image_size!r}")
        if not isinstance(self.n_objects, int) or not 1 <= self.n_objects <= 8:
            raise ValueError(f"n_objects must be an int in 1..8, got {self.n_objects!r}")
        if self.min_objects is not None and (
            not isinstance(self.min_objects, int) or not 0 <= self.min_objects <= self.n_objects
        ):
            raise ValueError(
                f"min_objects must be None or an int in 0..n_objects={self.n_objects}, "
                f"got {self.min_objects!r}"
            )
        if (
            not isinstance(self.shapes, tuple | list)
            or not self.shapes
            or any(s not in SHAPES for s in self.shapes)
            or len(set(self.shapes)) != len(self.shapes)
        ):
            raise ValueError(
                f"shapes must be a non-empty tuple of distinct names from {', '.join(SHAPES)}, "
                f"got {self.shapes!r}"
            )
        _check_range("position_x_range", self.position_x_range, 0.0, 1.0)
        _check_range("position_y_range", self.position_y_range, 0.0, 1.0)
        _check_range("scale_range", self.scale_range, 0.0, 1.0)
        if self.scale_range[0] <= 0:
            raise ValueError(f"scale_range must be > 0, got {self.scale_range!r}")
        _check_range("rotation_range", self.rotation_range, -math.inf, math.inf)
        _check_range("hue_range", self.hue_range, 0.0, 1.0)
        for name in ("saturation", "value"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if (
            not isinstance(self.background, tuple | list)
            or len(self.background) != 3
            or not all(isinstance(c, int | float) and 0.0 <= c <= 1.0 for c in self.background)
        ):
            raise ValueError(
                f"background must be an (r, g, b) triple in [0, 1], got {self.background!r}"
            )
        if self.occlusion not in ("soft", "hard"):
            raise ValueError(f"occlusion must be 'soft' or 'hard', got {self.occlusion!r}")

    @property
    def n_shapes(self) -> int:
        return len(self.shapes)

    def sample(self, n: int, *, generator: torch.Generator) -> SpritesBatch:
        """Draw n scenes: factors uniform in their ranges, then render (see module docstring)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        k = self.n_objects
        u = torch.rand((n, k, 5), generator=generator)
        shape = torch.randint(self.n_shapes, (n, k), generator=generator)
        if self.min_objects is None:
            present = torch.ones((n, k), dtype=torch.bool)
        else:
            count = torch.randint(self.min_objects, k + 1, (n, 1), generator=generator)
            present = torch.arange(k) < count
        ranges = [getattr(self, f"{name}_range") for name in FACTORS]
        low = torch.tensor([r[0] for r in ranges], dtype=torch.float32)
        high = torch.tensor([r[1] for r in ranges], dtype=torch.float32)
        f = low + (high - low) * u
        position_x, position_y, scale, rotation, hue = f.unbind(-1)
        images, masks = self.render(shape, position_x, position_y, scale, rotation, hue, present)
        return SpritesBatch(
            images, masks, shape, position_x, position_y, scale, rotation, hue, present
        )

    @torch.no_grad()
    def render(
        self,
        shape: torch.Tensor,
        position_x: torch.Tensor,
        position_y: torch.Tensor,
        scale: torch.Tensor,
        rotation: torch.Tensor,
        hue: torch.Tensor,
        present: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (n, 3, S, S) and visible masks (n, K, S, S) of given factors, each (n, K)."""
        n, k = shape.shape
        given = {
            "position_x": position_x,
            "position_y": position_y,
            "scale": scale,
            "rotation": rotation,
        }
        for name, value in given.items():
            if value.shape != (n, k):
                raise ValueError(f"{name} must have shape {(n, k)} like shape, got {value.shape}")
        if present is None:
            present = torch.ones((n, k), dtype=torch.bool)
        size = self.image_size
        colours = hsv_to_rgb(hue.float(), self.saturation, self.value)  # (n, K, 3)
        background = torch.tensor(self.background, dtype=torch.float32).view(1, 3, 1, 1)
        images = torch.empty((n, 3, size, size), dtype=torch.float32)
        masks = torch.empty((n, k, size, size), dtype=torch.float32)
        chunk = max(1, _CHUNK_PIXELS // (k * size * size))
        for start in range(0, n, chunk):  # a loop over chunks of the batch, for cache locality
            part = slice(start, min(n, start + chunk))
            visible, image = masks[part], images[part]
            # coverage α_k of every slot, written in place, then turned into visible masks m_k
            self._coverage(
                shape[part],
                position_x[part],
                position_y[part],
                scale[part],
                rotation[part],
                present[part],
                visible,
            )
            transmitted = torch.ones_like(visible[:, :1])
            for obj in range(k - 1, -1, -1):  # z-order: object k - 1 is on top
                mask = visible[:, obj : obj + 1]
                mask.mul_(transmitted)  # m_k = α_k · Π_{j>k} (1 − α_j)
                transmitted.sub_(mask)  # T · (1 − α_k) = T − m_k
            torch.mul(transmitted, background, out=image)
            for obj in range(k):
                image.addcmul_(colours[part, obj, :, None, None], visible[:, obj : obj + 1])
        return images.clamp_(0.0, 1.0), masks

    def _coverage(
        self, shape, position_x, position_y, scale, rotation, present, out: torch.Tensor
    ) -> None:
        """Coverage α of every object slot alone, ignoring the others, into ``out`` (n, K, S, S)."""
        n, k = shape.shape
        size = self.image_size
        m = n * k
        grid = torch.arange(size, dtype=torch.float32) + 0.5
        dx = grid - (position_x.reshape(m, 1) * size)  # (m, S): column offsets p₁ − c₁
        dy = grid - (position_y.reshape(m, 1) * size)  # (m, S): row offsets p₂ − c₂
        radius = (scale.reshape(m) * size).float()
        cos, sin = torch.cos(rotation.reshape(m)).float(), torch.sin(rotation.reshape(m)).float()
        labels = shape.reshape(m)
        alpha = out.view(m, size, size)
        for label, name in enumerate(self.shapes):
            index = (labels == label).nonzero().squeeze(1)
            if index.numel() == 0:
                continue
            if index.numel() == m:  # one shape in this chunk: no gather or scatter needed
                d = _SIGNED_DISTANCE[name](dx, dy, cos, sin, radius)
            else:
                d = _SIGNED_DISTANCE[name](
                    dx[index], dy[index], cos[index], sin[index], radius[index]
                )
            if self.occlusion == "soft":
                a = d.neg_().add_(0.5).clamp_(0.0, 1.0)
            else:
                a = (d <= 0).float()
            alpha.index_copy_(0, index, a)
        if not bool(present.all()):
            out.mul_(present.view(n, k, 1, 1))


# Signed distances in pixels. Arguments: dx (m, S) column offsets, dy (m, S) row offsets,
# cos/sin (m,) of the rotation, radius (m,). q = R(θ)ᵀ(p − c), so the local coordinate along a
# unit direction u (in the shape's frame) is (R u)ᵀ(p − c): a row term plus a column term.


def _along(dx, dy, cos, sin, angle: float) -> torch.Tensor:
    """(R(θ) u_φ)ᵀ(p − c) for u_φ = (cos φ, sin φ): shape (m, S, S), one broadcast add."""
    a, b = math.cos(angle), math.sin(angle)
    wx = (cos * a - sin * b).unsqueeze(1)  # x-component of R(θ)u
    wy = (sin * a + cos * b).unsqueeze(1)  # y-component of R(θ)u
    return (wy * dy).unsqueeze(2) + (wx * dx).unsqueeze(1)


def _circle(dx, dy, cos, sin, radius):
    squared = (dy * dy).unsqueeze(2) + (dx * dx).unsqueeze(1)
    return squared.sqrt_().sub_(radius.view(-1, 1, 1))


def _square(dx, dy, cos, sin, radius):
    q1 = _along(dx, dy, cos, sin, 0.0).abs_()
    q2 = _along(dx, dy, cos, sin, math.pi / 2).abs_()
    return torch.maximum(q1, q2, out=q1).sub_(radius.view(-1, 1, 1) / math.sqrt(2.0))


def _triangle(dx, dy, cos, sin, radius):
    # outward edge normals of an equilateral triangle with a vertex pointing up on screen
    d = _along(dx, dy, cos, sin, math.pi / 2)
    for angle in (7 * math.pi / 6, 11 * math.pi / 6):
        torch.maximum(d, _along(dx, dy, cos, sin, angle), out=d)
    return d.sub_(radius.view(-1, 1, 1) / 2)


def _ellipse(dx, dy, cos, sin, radius):
    b = _ELLIPSE_MINOR
    q1 = _along(dx, dy, cos, sin, 0.0)
    q2 = _along(dx, dy, cos, sin, math.pi / 2)
    h = torch.hypot(q1, q2 / b)
    gradient = torch.hypot(q1, q2.div_(b * b)).clamp_min_(1e-6)  # ‖∇h‖·h
    return (h - radius.view(-1, 1, 1)).mul_(h).div_(gradient)


def _cross(dx, dy, cos, sin, radius):
    r = radius.view(-1, 1, 1)
    w = r * _CROSS_WIDTH
    q1 = _along(dx, dy, cos, sin, 0.0).abs_()
    q2 = _along(dx, dy, cos, sin, math.pi / 2).abs_()
    horizontal = torch.maximum(q1 - r, q2 - w)
    vertical = torch.maximum(q1.sub_(w), q2.sub_(r))
    return torch.minimum(horizontal, vertical, out=horizontal)


_SIGNED_DISTANCE = {
    "square": _square,
    "circle": _circle,
    "triangle": _triangle,
    "ellipse": _ellipse,
    "cross": _cross,
}
