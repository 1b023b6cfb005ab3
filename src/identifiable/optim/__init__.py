"""Optimizers that change what a gradient step does (not models, not losses)."""

from identifiable.optim.allora import ALLoRAUpdate
from identifiable.optim.orthograd import OrthoGrad, orthogonal_gradient

__all__ = ["ALLoRAUpdate", "OrthoGrad", "orthogonal_gradient"]
