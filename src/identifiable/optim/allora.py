"""ALLoRA's per-row factors as a learning rate on the optimizer's update (the Adam-compatible
placement).

Huang & Balestriero (2024), "ALLoRA: Adaptive Learning Rate Mitigates LoRA Fatal Flaws",
arXiv:2410.09692, §4.2 (following Eqs. (4)–(5)), scales row i of a LoRA adapter's gradient
∂L/∂(BA) by

    c_i = 1 / √( ‖(BA)_{i,:}‖₂ + 1/η² )

(the rule, its gradient form and the adapter: :mod:`identifiable.models.lora`). The paper argues
for it as a learning rate — "an adaptive learning rate that is inversely proportional to
‖(BA)_{i,:}‖", "the effective learning rate is η · l_b" — and writes it on the gradient, which is
the same thing under SGD. It does not discuss Adam, where it is not: Adam divides each
coordinate's step by √v, so a per-row gradient scale that changes slowly is divided out, and at
B = 0 (every c_i = η) entirely — the first steps equal those of LoRA without α/r and dropout, and
the "fast escape from 0" is gone.

This module places c where Adam cannot cancel it: the base optimizer steps on the *plain*
gradients, then

    ΔB_{i,:} ← c_i · ΔB_{i,:}        ΔA ← c̄ · ΔA,     c̄ = (1/n_out) Σ_i c_i

i.e. row i of B learns at rate lr · c_i (η · lr at B = 0, tapering as the row grows) and A, which
every output row shares, at their mean rate. The factors are computed from A and B before the
step, as the gradient rule computes them at the forward pass. Under SGD this gives the gradient
rule's B step exactly, and its A step whenever the rows share one factor (∂̃A = Bᵀ diag(c) g =
c̄ ∂A when every c_i = c̄, e.g. at B = 0); under Adam it is the per-row learning rate the paper
describes. The whole update is scaled, decoupled weight decay included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import torch

__all__ = ["ALLoRAUpdate"]


class Adapter(Protocol):
    """What :class:`ALLoRAUpdate` needs of a layer (e.g. an ALLoRA
    :class:`identifiable.models.lora.LoRALinear` with ``placement="update"``)."""

    A: torch.nn.Parameter  # (r, n_in)
    B: torch.nn.Parameter  # (n_out, r)

    def row_factors(self) -> torch.Tensor:  # c, (n_out,)
        ...


class ALLoRAUpdate(torch.optim.Optimizer):
    """Wrap ``base`` (SGD, AdamW, …): after ``base.step()``, row i of each layer's B update is
    multiplied by c_i and its A update by the mean c̄ (module docstring).

    >>> add_adapters(model, "all", 8, kind="allora", placement="update")
    >>> base = torch.optim.AdamW(trainable_parameters(model), lr=1e-3)
    >>> optimizer = ALLoRAUpdate(base, adapters(model).values())

    The layers must compute plain gradients (``placement="update"``), else c would be applied
    twice. ``param_groups`` and ``state`` are the base's (schedulers act on it).
    """

    def __init__(self, base: torch.optim.Optimizer, layers: Iterable[Adapter]):
        if not isinstance(base, torch.optim.Optimizer):
            raise ValueError(
                f"ALLoRAUpdate wraps a torch.optim.Optimizer (e.g. AdamW(params, lr=...)), "
                f"got {type(base).__name__}"
            )
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("ALLoRAUpdate needs at least one ALLoRA layer (A, B, row_factors)")
        for layer in self.layers:
            layer.row_factors()  # an ALLoRA layer: fails early otherwise
            if getattr(layer, "placement", "update") != "update":
                raise ValueError(
                    "ALLoRAUpdate needs layers with placement='update' (plain gradients); "
                    "a 'gradient' layer already scales its gradients"
                )
        self.base = base
        super().__init__(base.param_groups, base.defaults)
        self.param_groups = base.param_groups
        self.state = base.state

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        before = [
            (layer, layer.A.clone(), layer.B.clone(), layer.row_factors()) for layer in self.layers
        ]
        self.base.step()
        for layer, A0, B0, c in before:
            layer.B.copy_(B0 + c[:, None] * (layer.B - B0))
            layer.A.copy_(A0 + c.mean() * (layer.A - A0))
        return loss

    def state_dict(self) -> dict[str, Any]:
        return self.base.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.base.load_state_dict(state_dict)
        self.param_groups = self.base.param_groups
        self.state = self.base.state

    def __repr__(self) -> str:
        return f"ALLoRAUpdate({self.base!r}, {len(self.layers)} layers)"
