"""Optimizers that change what a gradient step does (not models, not losses)."""

from identifiable.optim.orthograd import OrthoGrad, orthogonal_gradient

__all__ = ["OrthoGrad", "orthogonal_gradient"]
