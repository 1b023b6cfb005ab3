"""What the modular-arithmetic and sparse-parity worlds mean: every row's answer is the operation's
(checked against Python's own arithmetic, division by ``pow(b, −1, p)``), the encoding is the
concatenation of two one-hots (or the tokens), the split is the requested fraction and fixed by
the seed, and impossible settings are refused."""

import itertools

import pytest
import torch

from identifiable.worlds.modular import modular_arithmetic
from identifiable.worlds.parity import sparse_parity

PYTHON = {
    "add": lambda a, b, p: (a + b) % p,
    "sub": lambda a, b, p: (a - b) % p,
    "mul": lambda a, b, p: (a * b) % p,
    "div": lambda a, b, p: (a * pow(b, -1, p)) % p,
}


@pytest.mark.parametrize("operation", sorted(PYTHON))
@pytest.mark.parametrize("start", [0, 1])
def test_every_answer_is_pythons(operation, start):
    p = 7
    world = modular_arithmetic(operation, p, 0.5, encoding="tokens", start=start)
    rows = [
        (a, b)
        for a, b in itertools.product(range(start, p), repeat=2)
        if not (operation == "div" and b == 0)
    ]
    assert world.x.tolist() == [list(r) for r in rows]
    assert world.z.tolist() == [PYTHON[operation](a, b, p) for a, b in rows]


def test_onehot_encoding_is_two_concatenated_one_hots():
    p = 5
    tokens = modular_arithmetic("add", p, 0.5, encoding="tokens")
    onehot = modular_arithmetic("add", p, 0.5)
    assert onehot.x.shape == (p * p, 2 * p) and onehot.x.dtype == torch.float32
    assert torch.equal(onehot.x[:, :p].argmax(1), tokens.x[:, 0])
    assert torch.equal(onehot.x[:, p:].argmax(1), tokens.x[:, 1])
    assert torch.equal(onehot.x.sum(1), torch.full((p * p,), 2.0))
    assert torch.equal(onehot.z, tokens.z)


def test_the_papers_setting_is_the_default():
    default = modular_arithmetic()
    world = modular_arithmetic("add", 113, 0.4, seed=0)
    assert torch.equal(default.x, world.x) and torch.equal(
        default.indices("train"), world.indices("train")
    )


def test_the_papers_setting_has_226_inputs_and_40_percent_train():
    world = modular_arithmetic("add", 113, 0.4, seed=0)
    assert world.x.shape == (12769, 226)
    assert world.sizes["train"] == round(0.4 * 12769) and world.sizes["test"] == 12769 - 5108
    assert world.sizes["validation"] == 0 and world.sizes["ood"] == 0


def test_the_split_is_fixed_by_the_seed():
    a = modular_arithmetic("mul", 11, 0.3, seed=1).indices("train")
    b = modular_arithmetic("mul", 11, 0.3, seed=1).indices("train")
    c = modular_arithmetic("mul", 11, 0.3, seed=2).indices("train")
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"operation": "pow"}, "operation must be one of"),
        ({"modulus": 1}, "modulus must be an int >= 2"),
        ({"modulus": 7.0}, "modulus must be an int >= 2"),
        ({"modulus": True}, "modulus must be an int >= 2"),
        ({"operation": "div", "modulus": 12}, "needs a prime modulus"),
        ({"operation": "div", "modulus": 9}, "needs a prime modulus"),
        ({"operation": "div", "modulus": 4}, "needs a prime modulus"),
        ({"operation": "div", "modulus": 8}, "needs a prime modulus"),
        ({"train_fraction": "0.4"}, r"train_fraction must be in \(0, 1\)"),
        ({"train_fraction": 0.0}, r"train_fraction must be in \(0, 1\)"),
        ({"train_fraction": 1.0}, r"train_fraction must be in \(0, 1\)"),
        ({"train_fraction": True}, r"train_fraction must be in \(0, 1\)"),
        ({"encoding": "binary"}, "encoding must be one of"),
        ({"start": 2}, "start must be 0"),
    ],
)
def test_refuses_impossible_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        modular_arithmetic(**{"modulus": 7} | kwargs)


@pytest.mark.parametrize("p", [2, 3, 13])
def test_division_accepts_primes(p):
    world = modular_arithmetic("div", p, 0.5, encoding="tokens")
    assert len(world) == p * (p - 1)


def test_sparse_parity_rows_are_distinct_and_labelled_by_the_parity_bits():
    world = sparse_parity(n_parity=3, n_noise=5, n_samples=200, train_fraction=0.5, seed=0)
    x = world.x.long()
    assert x.shape == (200, 8) and set(x.unique().tolist()) <= {0, 1}
    assert len(torch.unique(x, dim=0)) == 200
    assert torch.equal(world.z, x[:, :3].sum(1) % 2)
    assert world.sizes["train"] == 100 and world.sizes["test"] == 100
    # noise bits are unrelated to the label: P(bit = 1) ≈ 1/2 in each class
    assert abs(float(world.z.double().mean()) - 0.5) < 5 * 0.5 / 200**0.5


def test_sparse_parity_can_use_every_row_and_is_fixed_by_the_seed():
    world = sparse_parity(n_parity=2, n_noise=2, n_samples=16, seed=3)
    assert len(torch.unique(world.x, dim=0)) == 16
    again = sparse_parity(n_parity=2, n_noise=2, n_samples=16, seed=3)
    assert torch.equal(world.x, again.x)
    assert not torch.equal(sparse_parity(seed=1).x, sparse_parity(seed=2).x)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_parity": 0},
        {"n_noise": -1},
        {"n_samples": 1},
        {"n_parity": 2, "n_noise": 2, "n_samples": 17},
        {"train_fraction": 1.0},
        {"n_parity": 2.0},
    ],
)
def test_sparse_parity_refuses_impossible_settings(kwargs):
    with pytest.raises(ValueError):
        sparse_parity(**kwargs)


def test_sparse_parity_defaults_are_the_papers_setting():
    world = sparse_parity()
    assert world.x.shape == (2000, 43) and world.sizes["train"] == 1000
    assert torch.equal(world.x, sparse_parity(3, 40, 2000, 0.5, seed=0).x)
    assert world.z.dtype == torch.int64 and world.x.dtype == torch.float32


def test_sparse_parity_limits_and_the_global_random_state():
    sparse_parity(n_parity=1, n_noise=0, n_samples=2, train_fraction=0.5)
    torch.manual_seed(1)
    a = sparse_parity(n_parity=2, n_noise=6, n_samples=50, seed=4)
    torch.manual_seed(2)
    b = sparse_parity(n_parity=2, n_noise=6, n_samples=50, seed=4)
    assert torch.equal(a.x, b.x)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_parity": 0}, "n_parity must be"),
        ({"n_noise": -1}, "n_noise must be"),
        ({"n_samples": 2.0}, "n_samples must be"),
        ({"train_fraction": 0.0}, "train_fraction must be"),
    ],
)
def test_sparse_parity_errors_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sparse_parity(**kwargs)
