"""Renditions: the edge and inverted styles keep the content and change the pixels."""

from __future__ import annotations

import pytest
import torch

from identifiable.worlds.renditions import render


def test_edges_by_hand_on_a_vertical_stroke():
    image = torch.zeros(8, 8)
    image[:, 3] = 1.0  # a vertical stroke in column 3
    edges = render(image.reshape(1, 64)).reshape(8, 8)
    # central differences: columns 2 and 4 see ±1/2, the stroke itself 0, the border 0
    assert torch.allclose(edges[1:-1, 2], torch.ones(6)) and torch.allclose(
        edges[1:-1, 4], torch.ones(6)
    )
    assert edges[:, 3].abs().max() == 0 and edges[:, 0].abs().max() == 0
    assert float(edges.max()) == 1.0


def test_inverted_and_ranges():
    x = torch.rand(5, 64)
    torch.testing.assert_close(render(x, "inverted"), 1 - x)
    e = render(x)
    assert e.shape == (5, 64) and float(e.min()) >= 0 and float(e.max()) <= 1
    assert torch.equal(render(torch.zeros(2, 64)), torch.zeros(2, 64))  # blank stays blank


def test_bad_input():
    with pytest.raises(ValueError, match="rendition must be one of edges, inverted"):
        render(torch.zeros(1, 64), "cartoon")
    with pytest.raises(ValueError, match=r"must be \(n, 64\) rows"):
        render(torch.zeros(2, 63))
