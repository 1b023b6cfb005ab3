"""Plain ``nn.Module`` s with explicit, generator-seeded initialisation: no training, no data.

Learners (``identifiable.learners``) build these and train them; experiments build them for
untrained baselines. A seed (a ``torch.Generator``) fixes a model without touching the global RNG.
"""

from identifiable.models.cnn import ConvEncoder
from identifiable.models.lora import (
    LoRALinear,
    adapters,
    add_adapters,
    merge_adapters,
    trainable_parameters,
    unmerge_adapters,
)
from identifiable.models.mlp import MLPEncoder

__all__ = [
    "ConvEncoder",
    "LoRALinear",
    "MLPEncoder",
    "adapters",
    "add_adapters",
    "merge_adapters",
    "trainable_parameters",
    "unmerge_adapters",
]
