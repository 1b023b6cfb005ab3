"""Low-rank adapters (LoRA and ALLoRA) on the ``nn.Linear`` layers of any model.

LoRA — Hu et al. (2021), "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685;
as written in Huang & Balestriero (2024), arXiv:2410.09692, Definition 1. A frozen layer
y = W x + b gains a trainable low-rank term:

    y = W x + b + (α/r) · B A · drop(x),   A ∈ R^{r×n_in}, B ∈ R^{n_out×r}, 1 ≤ r ≤ min(n_in, n_out)

B starts at 0 (so the adapted model starts as the pretrained one), A from PyTorch's default
``nn.Linear`` init (Kaiming-uniform with a = √5, i.e. U(±1/√n_in), as peft does), ``drop`` is
dropout on the adapter's input only. α/r is the scaling factor (peft's common r = 8, α = 16 gives
2, the default here: α = 2r).

ALLoRA — Huang & Balestriero (2024), "ALLoRA: Adaptive Learning Rate Mitigates LoRA Fatal Flaws",
arXiv:2410.09692, §4.2 (the display following Eqs. (4)–(5), unnumbered): no α/r (output adaptor
f_o = identity) and no dropout by default (dropout > 0 is the paper's "ALLoRA+D"). With
g = ∂L/∂(BA) and row i of it g_i, ALLoRA uses

    g̃_i = c_i · g_i,     c_i = 1 / √( ‖(BA)_{i,:}‖₂ + 1/η² ),     i = 1 … n_out

— the ℓ2 norm of the row, *not* squared, under the square root; c_i = η while row i is zero
(B = 0) and tapers like ‖(BA)_i‖^{-1/2} as the row grows. η² is a hyperparameter (the paper runs
η² ∈ {1, 2, 4}; its Listing 1 hard-codes 1/η² = 1/4, the default here). Pushed through the
product, with G = ∂L/∂out summed over every leading (batch, sequence) dimension:

    ∂̃B = diag(c) Gᵀ (x Aᵀ),     ∂̃A = Bᵀ diag(c) Gᵀ x,     ∂x = G B A   (input gradient unscaled)

Only A's and B's gradients change; the gradient passed to the layer below is the plain one (the
paper: "We only modify the gradients of A and B, but not that of the input"). The row norms come
without forming BA: ‖(BA)_i‖² = b_iᵀ (A Aᵀ) b_i, at r²(n_in + n_out) operations.
:class:`ALLoRAProduct` is this rule as a custom autograd Function (what the authors' Listing 1
does, with its batched-gradient bug fixed by summing over the leading dimensions): the
``placement="gradient"`` of an ALLoRA layer, exact under SGD. Under Adam a slowly changing per-row
gradient scale is divided out by m/√v (at B = 0 entirely: every c_i = η); ``placement="update"``
leaves the gradients plain and lets :class:`identifiable.optim.allora.ALLoRAUpdate` apply c as a
per-row learning rate on the optimizer's step (the reasons are in that module).

``add_adapters`` freezes the whole model and makes only the adapters trainable;
``merge_adapters`` folds (α/r)·B A into W (inference without the extra product) and
``unmerge_adapters`` takes it out again.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

__all__ = [
    "KINDS",
    "PLACEMENTS",
    "ALLoRAProduct",
    "LoRALinear",
    "add_adapters",
    "adapters",
    "allora_factors",
    "allora_product",
    "merge_adapters",
    "parameter_counts",
    "row_norms",
    "trainable_parameters",
    "unmerge_adapters",
]

KINDS = ("lora", "allora")
PLACEMENTS = ("gradient", "update")
DEFAULT_ETA2 = 4.0  # the paper's Listing 1: 1/η² = 1/4


def row_norms(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """‖(BA)_{i,:}‖₂ for every output row i, from b_iᵀ (A Aᵀ) b_i (BA is never formed);
    A (r, n_in), B (n_out, r) → (n_out,), no gradient."""
    with torch.no_grad():
        squared = ((B @ (A @ A.T)) * B).sum(dim=1)
        return squared.clamp_min(0.0).sqrt()


def allora_factors(A: torch.Tensor, B: torch.Tensor, eta2: float) -> torch.Tensor:
    """ALLoRA's c_i = 1/√(‖(BA)_{i,:}‖₂ + 1/η²) for every output row (module docstring)."""
    if not eta2 > 0:
        raise ValueError(f"eta2 (η²) must be > 0, got {eta2}")
    return (row_norms(A, B) + 1.0 / eta2).rsqrt()


class ALLoRAProduct(torch.autograd.Function):
    """out = x Aᵀ Bᵀ whose backward scales row i of ∂L/∂(BA) by c_i and leaves ∂x plain
    (module docstring). ``ALLoRAProduct.apply(x, A, B, eta2)``: x (..., n_in), A (r, n_in),
    B (n_out, r)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, A: torch.Tensor, B: torch.Tensor, eta2: float):
        ctx.save_for_backward(x, A, B, allora_factors(A, B, eta2))
        return (x @ A.T) @ B.T

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor):
        x, A, B, c = ctx.saved_tensors
        grad_x = grad_A = grad_B = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad_out @ B) @ A  # the plain input gradient: not scaled
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            x2 = x.reshape(-1, x.shape[-1])
            scaled = grad_out.reshape(-1, grad_out.shape[-1]) * c  # G diag(c)
            if ctx.needs_input_grad[2]:
                grad_B = scaled.T @ (x2 @ A.T)  # diag(c) Gᵀ x Aᵀ
            if ctx.needs_input_grad[1]:
                grad_A = (scaled @ B).T @ x2  # Bᵀ diag(c) Gᵀ x
        return grad_x, grad_A, grad_B, None


def allora_product(x: torch.Tensor, A: torch.Tensor, B: torch.Tensor, eta2: float) -> torch.Tensor:
    """x Aᵀ Bᵀ with ALLoRA's gradient rule on A and B (:class:`ALLoRAProduct`)."""
    if A.ndim != 2 or B.ndim != 2 or B.shape[1] != A.shape[0] or x.shape[-1] != A.shape[1]:
        raise ValueError(
            f"need x (..., n_in), A (r, n_in), B (n_out, r); got x {tuple(x.shape)}, "
            f"A {tuple(A.shape)}, B {tuple(B.shape)}"
        )
    return ALLoRAProduct.apply(x, A, B, eta2)


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a rank-``rank`` adapter (module docstring).

    Parameters
    ----------
    base:       the layer to adapt; its weight and bias are frozen (``requires_grad=False``).
    rank:       r, 1 ≤ r ≤ min(n_in, n_out).
    alpha:      LoRA's α (scale α/r); ``None``: 2r for LoRA. ALLoRA has no scale: leave it None.
    dropout:    probability of dropping an adapter input (training mode only), in [0, 1).
    kind:       ``"lora"`` or ``"allora"``.
    eta2:       ALLoRA's η² (> 0; ``None``: 4, the paper's listing). LoRA has none.
    placement:  ALLoRA only: ``"gradient"`` (the paper's rule in the backward pass) or
                ``"update"`` (plain gradients; wrap the optimizer in ``ALLoRAUpdate``).
    generator:  draws A's init and the dropout masks (``None``: the global RNG).

    Attributes: ``A`` (r, n_in), ``B`` (n_out, r), ``scale`` (α/r or 1), ``merged``.
    """

    def __init__(
        self,
        base: nn.Linear,
        rank: int,
        *,
        alpha: float | None = None,
        dropout: float = 0.0,
        kind: str = "lora",
        eta2: float | None = None,
        placement: str = "gradient",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise ValueError(f"LoRALinear adapts an nn.Linear, got {type(base).__name__}")
        _check_settings(base, rank, alpha, dropout, kind, eta2, placement)
        n_out, n_in = base.weight.shape
        self.base = base
        base.requires_grad_(False)
        self.rank = rank
        self.kind = kind
        self.placement = placement
        self.alpha = float(2 * rank if alpha is None else alpha) if kind == "lora" else None
        self.scale = self.alpha / rank if self.alpha is not None else 1.0
        self.eta2 = float(DEFAULT_ETA2 if eta2 is None else eta2) if kind == "allora" else None
        self.dropout = float(dropout)
        self.generator = generator
        factory = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.A = nn.Parameter(torch.empty(rank, n_in, **factory))
        self.B = nn.Parameter(torch.zeros(n_out, rank, **factory))
        bound = 1.0 / math.sqrt(n_in)  # kaiming_uniform_(a=√5) on (r, n_in)
        with torch.no_grad():
            self.A.uniform_(-bound, bound, generator=generator)
        self.merged = False

    def row_factors(self) -> torch.Tensor:
        """ALLoRA's c_i of this layer's output rows (:func:`allora_factors`; ALLoRA layers only)."""
        if self.eta2 is None:
            raise ValueError("row_factors are ALLoRA's (kind='allora'); this is a LoRA layer")
        return allora_factors(self.A, self.B, self.eta2)

    def delta_weight(self) -> torch.Tensor:
        """The adapter as a weight update, (α/r) · B A (n_out, n_in)."""
        return self.scale * (self.B @ self.A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        if self.merged:
            return y
        h = x
        if self.training and self.dropout > 0:
            keep = torch.rand(x.shape, generator=self.generator, device=x.device) >= self.dropout
            h = x * keep / (1.0 - self.dropout)
        if self.kind == "allora" and self.placement == "gradient":
            return y + allora_product(h, self.A, self.B, self.eta2)
        return y + self.scale * ((h @ self.A.T) @ self.B.T)

    @torch.no_grad()
    def merge(self) -> None:
        """W ← W + (α/r) B A; the forward then skips the adapter (until ``unmerge``)."""
        if self.merged:
            raise ValueError("the adapter is already merged; unmerge it first")
        self.base.weight += self.delta_weight()
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """W ← W − (α/r) B A: the pretrained weight again (up to float rounding)."""
        if not self.merged:
            raise ValueError("the adapter is not merged")
        self.base.weight -= self.delta_weight()
        self.merged = False

    def extra_repr(self) -> str:
        n_out, n_in = self.base.weight.shape
        setting = f"alpha={self.alpha:g}" if self.kind == "lora" else f"eta2={self.eta2:g}, "
        if self.kind == "allora":
            setting += f"placement={self.placement}"
        return (
            f"{n_in} → {n_out}, kind={self.kind}, rank={self.rank}, {setting}, "
            f"dropout={self.dropout:g}, merged={self.merged}"
        )


def _check_settings(
    base: nn.Linear,
    rank: object,
    alpha: float | None,
    dropout: float,
    kind: str,
    eta2: float | None,
    placement: str,
    name: str = "",
) -> None:
    """One-line ValueErrors for the adapter settings of ``base`` (named ``name`` in a model)."""
    n_out, n_in = base.weight.shape
    largest = min(n_in, n_out)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= largest:
        where = f" of layer {name!r}" if name else ""
        raise ValueError(
            f"rank must be an int in [1, min(n_in, n_out)] = [1, {largest}] for the "
            f"{n_in} → {n_out} Linear{where}, got {rank!r}"
        )
    if kind not in KINDS:
        raise ValueError(f"kind must be lora or allora, got {kind!r}")
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be gradient or update, got {placement!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if kind == "lora":
        if alpha is not None and not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        if eta2 is not None:
            raise ValueError("eta2 is ALLoRA's (kind='allora'); LoRA has alpha instead")
        if placement != "gradient":
            raise ValueError("placement is ALLoRA's (kind='allora'); LoRA has none")
    else:
        if alpha is not None:
            raise ValueError(
                "ALLoRA has no α/r scale (f_o = identity, arXiv:2410.09692 §4.2): leave alpha unset"
            )
        if eta2 is not None and not eta2 > 0:
            raise ValueError(f"eta2 (η²) must be > 0, got {eta2}")


def _linear_layers(model: nn.Module) -> dict[str, nn.Linear]:
    """The model's adaptable ``nn.Linear`` s by qualified name (not the root, not adapter bases)."""
    bases = {id(m.base) for m in model.modules() if isinstance(m, LoRALinear)}
    return {
        name: module
        for name, module in model.named_modules()
        if name and isinstance(module, nn.Linear) and id(module) not in bases
    }


def add_adapters(
    model: nn.Module,
    targets: str | list[str] | tuple[str, ...] = "all",
    rank: int = 8,
    *,
    alpha: float | None = None,
    dropout: float = 0.0,
    kind: str = "lora",
    eta2: float | None = None,
    placement: str = "gradient",
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Replace the ``targets`` (qualified names of ``nn.Linear`` s in ``model.named_modules()``,
    or ``"all"``) by :class:`LoRALinear` s, in place; freeze everything but the adapters.

    Settings as in :class:`LoRALinear` (the same for every target). Returns ``model``. Unknown
    targets, or a rank outside [1, min(n_in, n_out)] of any target, raise a ``ValueError`` naming
    the available layers / the bound before anything changes.
    """
    available = _linear_layers(model)
    if not available:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layers to adapt")
    names = list(available) if targets == "all" else list(dict.fromkeys([targets] if
              isinstance(targets, str) else targets))  # fmt: skip
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        raise ValueError(
            f"unknown target layers {unknown or names}; the model's nn.Linear layers are: "
            f"{', '.join(available)} (or 'all')"
        )
    for name in names:
        _check_settings(available[name], rank, alpha, dropout, kind, eta2, placement, name)
    model.requires_grad_(False)
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        adapter = LoRALinear(
            available[name], rank, alpha=alpha, dropout=dropout, kind=kind, eta2=eta2,
            placement=placement, generator=generator,
        )  # fmt: skip
        setattr(parent, child, adapter)
    return model


def adapters(model: nn.Module) -> dict[str, LoRALinear]:
    """The model's adapter layers by qualified name."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def merge_adapters(model: nn.Module) -> nn.Module:
    """Fold every adapter into its weight (:meth:`LoRALinear.merge`); returns ``model``."""
    for layer in adapters(model).values():
        layer.merge()
    return model


def unmerge_adapters(model: nn.Module) -> nn.Module:
    """Take every merged adapter out of its weight (:meth:`LoRALinear.unmerge`)."""
    for layer in adapters(model).values():
        layer.unmerge()
    return model


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that require gradients (after ``add_adapters``: the adapters' A and B)."""
    return [p for p in model.parameters() if p.requires_grad]


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """``{"trainable": …, "total": …}`` numbers of scalar parameters."""
    return {
        "trainable": sum(p.numel() for p in trainable_parameters(model)),
        "total": sum(p.numel() for p in model.parameters()),
    }
