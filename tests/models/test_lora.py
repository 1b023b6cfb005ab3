"""What the adapters mean: y = W x + b + (α/r)·B A·drop(x) on a frozen layer, B = 0 at init (the
adapted model starts as the pretrained one), only A and B train, merge folds (α/r)·B A into W;
ALLoRA has no α/r and its layers carry the gradient rule. Bad settings fail in one line."""

import copy

import pytest
import torch
from torch import nn

from identifiable.models.lora import (
    LoRALinear,
    adapters,
    add_adapters,
    allora_product,
    merge_adapters,
    parameter_counts,
    trainable_parameters,
    unmerge_adapters,
)


def model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Sequential(nn.Linear(6, 8), nn.ReLU()), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)
    ).double()


def x(seed=1):
    return torch.randn(5, 6, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def set_b(layer, seed=2):
    with torch.no_grad():
        layer.B.copy_(torch.randn(layer.B.shape, generator=torch.Generator().manual_seed(seed)))


@pytest.mark.parametrize("kind", ["lora", "allora"])
def test_at_init_the_adapted_model_is_the_pretrained_one(kind):
    base = model()
    expected = base(x())
    adapted = add_adapters(base, "all", 2, kind=kind, dropout=0.5)
    assert list(adapters(adapted)) == ["0.0", "1", "3"]
    for layer in adapters(adapted).values():
        assert float(layer.B.detach().abs().max()) == 0.0
        bound = 1 / layer.A.shape[1] ** 0.5
        A = layer.A.detach()
        assert float(A.abs().max()) <= bound and float(A.std()) > bound / 4
    torch.testing.assert_close(adapted.train()(x()), expected)  # dropout acts on B A x = 0 only


def test_forward_is_the_scaled_low_rank_update_and_alpha_defaults_to_two_r():
    linear = nn.Linear(6, 4).double()
    layer = LoRALinear(linear, 3)
    assert layer.alpha == 6.0 and layer.scale == 2.0
    set_b(layer)
    w, b = linear.weight.detach(), linear.bias.detach()
    expected = x() @ (w + 2.0 * layer.B @ layer.A).T + b
    torch.testing.assert_close(layer.eval()(x()), expected.detach())
    assert LoRALinear(nn.Linear(6, 4), 3, alpha=1.5).scale == 0.5
    allora = LoRALinear(nn.Linear(6, 4), 3, kind="allora")
    assert allora.scale == 1.0 and allora.alpha is None and allora.eta2 == 4.0


def test_only_the_adapters_train():
    adapted = add_adapters(model(), ["1", "3"], 2)
    trainable = trainable_parameters(adapted)
    assert len(trainable) == 4
    expected = [p for layer in adapters(adapted).values() for p in (layer.A, layer.B)]
    assert all(p is q for p, q in zip(trainable, expected, strict=True))
    assert parameter_counts(adapted) == {
        "trainable": 2 * (8 + 8) + 2 * (8 + 3),
        "total": (6 * 8 + 8) + (8 * 8 + 8) + (8 * 3 + 3) + 2 * (8 + 8) + 2 * (8 + 3),
    }
    adapted(x()).sum().backward()
    assert adapted[1].base.weight.grad is None and adapted[0][0].weight.grad is None
    assert isinstance(adapted[0][0], nn.Linear)  # not a target: left as it was


def test_merge_folds_the_update_into_the_weight_and_unmerge_takes_it_out():
    adapted = add_adapters(model(), "all", 2, alpha=3.0).eval()
    for layer in adapters(adapted).values():
        set_b(layer)
    before = {name: layer.base.weight.detach().clone() for name, layer in adapters(adapted).items()}
    expected = adapted(x())
    merge_adapters(adapted)
    layer = adapters(adapted)["1"]
    torch.testing.assert_close(layer.base.weight, before["1"] + 1.5 * layer.B @ layer.A)
    torch.testing.assert_close(adapted(x()), expected)
    with torch.no_grad():
        layer.B.zero_()  # merged: the forward no longer reads the adapter
    torch.testing.assert_close(adapted(x()), expected)
    with pytest.raises(ValueError, match="already merged"):
        layer.merge()
    set_b(layer)
    unmerge_adapters(adapted)
    for name, layer in adapters(adapted).items():
        torch.testing.assert_close(layer.base.weight, before[name])
    with pytest.raises(ValueError, match="not merged"):
        layer.unmerge()


def test_dropout_masks_the_adapter_input_in_training_only_and_follows_the_generator():
    base = nn.Linear(6, 4).double()

    def layer(seed):
        made = LoRALinear(copy.deepcopy(base), 2, dropout=0.5,
                          generator=torch.Generator().manual_seed(seed))  # fmt: skip
        set_b(made)
        return made

    one, two = layer(0), layer(0)
    torch.testing.assert_close(one.A, two.A)  # the generator fixes A …
    torch.testing.assert_close(one.train()(x()), two.train()(x()))  # … and the masks
    train = one(x())
    assert not torch.allclose(train, one(x()))  # a fresh mask each call
    evaluated = one.eval()(x())
    assert torch.allclose(one(x()), evaluated)
    # with A = B = I (scale 1) the adapter returns its input: each entry is 0 or x/(1 − p)
    identity = LoRALinear(nn.Linear(6, 6).double(), 6, alpha=6.0, dropout=0.25)
    with torch.no_grad():
        identity.A.copy_(torch.eye(6))
        identity.B.copy_(torch.eye(6))
    h = (identity.train()(x()) - identity.base(x())).detach()
    kept = torch.isclose(h, x() / 0.75)
    assert bool((kept | (h == 0)).all()) and 0 < int(kept.sum()) < h.numel()


def test_allora_layers_use_the_gradient_rule_unless_placed_on_the_update():
    linear = nn.Linear(6, 4).double()
    layer = LoRALinear(linear, 2, kind="allora", eta2=2.0)
    set_b(layer)
    layer(x()).pow(2).sum().backward()
    A, B = (t.detach().clone().requires_grad_() for t in (layer.A, layer.B))
    (linear(x()) + allora_product(x(), A, B, 2.0)).pow(2).sum().backward()
    torch.testing.assert_close(layer.B.grad, B.grad)
    torch.testing.assert_close(layer.A.grad, A.grad)
    plain = LoRALinear(nn.Linear(6, 4).double(), 2, kind="allora", placement="update")
    set_b(plain)
    A, B = (t.detach().clone().requires_grad_() for t in (plain.A, plain.B))
    plain(x()).pow(2).sum().backward()
    (plain.base(x()) + (x() @ A.T) @ B.T).pow(2).sum().backward()
    torch.testing.assert_close(plain.B.grad, B.grad)  # plain gradients: ALLoRAUpdate scales


def test_adapters_follow_the_layers_dtype():
    layer = LoRALinear(nn.Linear(3, 2).double(), 1)
    assert layer.A.dtype == layer.B.dtype == torch.float64


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"rank": 0},
            r"rank must be an int in \[1, min\(n_in, n_out\)\] = \[1, 6\] for the 6 → 8 ",
        ),
        ({"rank": 4}, r"= \[1, 3\] for the 8 → 3 Linear of layer '3', got 4"),
        ({"rank": 2.0}, "rank must be an int"),
        (
            {"targets": ["1", "head"]},
            r"unknown target layers \['head'\]; the model's nn.Linear "
            r"layers are: 0.0, 1, 3 \(or 'all'\)",
        ),
        ({"targets": []}, "unknown target layers"),
        ({"kind": "dora"}, "kind must be lora or allora, got 'dora'"),
        ({"kind": "allora", "alpha": 16.0}, "ALLoRA has no α/r scale"),
        ({"eta2": 2.0}, "eta2 is ALLoRA's"),
        ({"placement": "update"}, "placement is ALLoRA's"),
        ({"kind": "allora", "placement": "optimizer"}, "placement must be gradient or update"),
        ({"kind": "allora", "eta2": 0.0}, r"eta2 \(η²\) must be > 0, got 0.0"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"alpha": -1.0}, "alpha must be > 0, got -1.0"),
    ],
)
def test_bad_settings_fail_in_one_line_before_anything_changes(settings, message):
    base = model()
    arguments = {"targets": "all", "rank": 2} | settings
    with pytest.raises(ValueError, match=message) as error:
        add_adapters(base, **arguments)
    assert "\n" not in str(error.value)
    assert not adapters(base) and all(p.requires_grad for p in base.parameters())


def test_adapted_layers_are_no_longer_targets_and_other_inputs_are_refused():
    adapted = add_adapters(model(), ["1"], 2)
    with pytest.raises(ValueError, match=r"unknown target layers \['1'\]; .* are: 0.0, 3 "):
        add_adapters(adapted, ["1"], 2)
    with pytest.raises(ValueError, match="ReLU has no nn.Linear layers"):
        add_adapters(nn.ReLU(), "all", 1)
    with pytest.raises(ValueError, match="LoRALinear adapts an nn.Linear, got Conv1d"):
        LoRALinear(nn.Conv1d(2, 2, 1), 1)
