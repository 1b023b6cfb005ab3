"""Renditions: the finer points tests/worlds/test_renditions.py leaves open (found by mutation
testing): the edge map against its formula, pixel by pixel, with gradients in both directions,
per-image scaling, faint images, other image sides and the input checks."""

from __future__ import annotations

import math

import pytest
import torch

from identifiable.worlds.renditions import render


def edges_by_the_formula(image: torch.Tensor) -> torch.Tensor:
    """e(i, j) = √(((x(i, j+1) − x(i, j−1)) / 2)² + ((x(i+1, j) − x(i−1, j)) / 2)²) inside,
    0 on the border (module docstring), in Python loops; not yet scaled."""
    side = image.shape[0]
    e = torch.zeros(side, side, dtype=torch.float64)
    for i in range(side):
        for j in range(side):
            gx = (image[i, j + 1] - image[i, j - 1]) / 2 if 0 < j < side - 1 else 0.0
            gy = (image[i + 1, j] - image[i - 1, j]) / 2 if 0 < i < side - 1 else 0.0
            e[i, j] = math.sqrt(float(gx) ** 2 + float(gy) ** 2)
    return e


def test_edges_equal_the_formula_scaled_per_image():
    """Random images of different contrast: each rendition is its own edge map divided by its
    own largest edge (so every image's maximum is exactly 1)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(3, 64, generator=generator, dtype=torch.float64)
    x[1] *= 0.1  # a faint image
    out = render(x)
    assert out.dtype == torch.float32 and out.shape == (3, 64)
    for k in range(3):
        expected = edges_by_the_formula(x[k].reshape(8, 8))
        expected = expected / expected.max()
        torch.testing.assert_close(out[k].reshape(8, 8).double(), expected, atol=1e-6, rtol=0)
        assert float(out[k].max()) == pytest.approx(1.0)


def test_a_single_bright_pixel_by_hand():
    """A dot at (3, 3): its four neighbours see a difference of 1/2 along one axis each (equal
    edges, scaled to 1); the dot and the diagonals see none."""
    image = torch.zeros(8, 8)
    image[3, 3] = 1.0
    edges = render(image.reshape(1, 64)).reshape(8, 8)
    expected = torch.zeros(8, 8)
    expected[2, 3] = expected[4, 3] = expected[3, 2] = expected[3, 4] = 1.0
    torch.testing.assert_close(edges, expected, atol=0, rtol=0)


def test_a_diagonal_ramp_mixes_both_gradients():
    """x(i, j) = (i + 2j) / 21: gx = 2/21, gy = 1/21 inside (√5/21, scaled to 1); the first and
    last rows/columns see one of the two differences only: 2/21 on the top and bottom rows,
    1/21 on the left and right columns (scaled by √5/21: 2/√5 and 1/√5), 0 at the corners."""
    i, j = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    edges = render(((i + 2 * j) / 21).reshape(1, 64)).reshape(8, 8)
    torch.testing.assert_close(edges[1:-1, 1:-1], torch.ones(6, 6))
    torch.testing.assert_close(edges[0, 1:-1], torch.full((6,), 2 / 5**0.5))
    torch.testing.assert_close(edges[-1, 1:-1], torch.full((6,), 2 / 5**0.5))
    torch.testing.assert_close(edges[1:-1, 0], torch.full((6,), 1 / 5**0.5))
    torch.testing.assert_close(edges[1:-1, -1], torch.full((6,), 1 / 5**0.5))
    assert edges[0, 0] == edges[0, -1] == edges[-1, 0] == edges[-1, -1] == 0


def test_a_faint_stroke_is_still_an_outline_of_height_one():
    """The scaling is by the image's own largest edge: a stroke of intensity 10⁻³ gives the same
    outline as a full-intensity one."""
    image = torch.zeros(1, 64)
    image[0, 3::8] = 1.0
    torch.testing.assert_close(render(1e-3 * image), render(image))


def test_other_image_sides():
    """side=4: a 4×4 dot image is rendered on its own 4×4 grid."""
    image = torch.zeros(4, 4)
    image[1, 1] = 1.0
    edges = render(image.reshape(1, 16), side=4).reshape(4, 4)
    expected = torch.zeros(4, 4)
    expected[1, 2] = expected[2, 1] = 1.0  # (0, 1), (1, 0) are on the border
    torch.testing.assert_close(edges, expected, atol=0, rtol=0)
    with pytest.raises(ValueError, match=r"must be \(n, 16\) rows"):
        render(torch.zeros(1, 64), side=4)


def test_input_is_read_as_float_and_must_be_a_batch_of_rows():
    """Integer or float64 pixels give float32 renditions; one flat image (1-D) is refused."""
    ints = torch.zeros(2, 64, dtype=torch.int64)
    assert render(ints, "inverted").dtype == torch.float32
    torch.testing.assert_close(render(ints, "inverted"), torch.ones(2, 64))
    assert render(torch.zeros(2, 64, dtype=torch.float64)).dtype == torch.float32
    with pytest.raises(ValueError, match=r"must be \(n, 64\) rows"):
        render(torch.zeros(64))
