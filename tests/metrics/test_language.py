"""Rule accuracies of completions and the entropy floor: perfect, useless and hand-made inputs."""

import math

import numpy as np
import pytest
import torch

from identifiable.metrics.language import cut_at_eos, entropy_floor, rule_accuracies
from identifiable.worlds.formal_languages import FormalLanguageWorld
from identifiable.worlds.grammar_rules import EOS, PAD, SOS, rules

A, B = 3, 4


def row(*tokens, width=10):
    return list(tokens) + [PAD] * (width - len(tokens))


def test_perfect_completions_score_one():
    world = FormalLanguageWorld("aNbN", max_length=8)
    words = world.split("train").x
    scores = rule_accuracies(words, world.rules, prompt_length=2)
    assert scores == dict.fromkeys(scores, 1.0)


def test_unfinished_completions_score_zero():
    never_ends = torch.tensor([row(SOS, A, B, A, B, A, B)] * 3)
    scores = rule_accuracies(never_ends, rules("aNbN"), prompt_length=3)
    assert scores == dict.fromkeys(scores, 0.0)


def test_rules_are_read_up_to_the_first_eos_among_finished_rows_only():
    anbn = rules("aNbN")
    sequences = torch.tensor(
        [
            row(SOS, B, A, A, B, EOS, B, B),  # OOD prompt "ba": R1 kept (#a = #b), R2 broken
            row(SOS, B, A, B, EOS, A, A),  # R1 broken (#a 1, #b 2); after EOS ignored
            row(SOS, B, A, B, A, B),  # unfinished: not counted in the rules
        ]
    )
    scores = rule_accuracies(sequences, anbn, prompt_length=3)
    assert scores["finished"] == pytest.approx(2 / 3)
    assert scores["rule_1"] == 0.5 and scores["rule_2"] == 0.0 and scores["grammatical"] == 0.0
    assert scores["rule_2_completion"] == 1.0  # completions "ab" and "b": no b before an a


def test_bracket_completion_rule_starts_after_the_two_breaking_tokens():
    dyck = rules("dyck")
    close, sq_open, sq_close, open_ = 4, 5, 6, 3
    # prompt ")[" + w "()" then completion "]" EOS: parentheses of w + completion are matched
    seq = torch.tensor([row(SOS, close, sq_open, open_, close, sq_close, EOS)])
    scores = rule_accuracies(seq, dyck, prompt_length=5)
    assert scores["rule_1"] == 1.0 and scores["rule_2"] == 0.0
    assert scores["rule_2_completion"] == 1.0


def test_cut_at_eos():
    x = torch.tensor([[SOS, A, EOS, A, EOS], [SOS, A, A, A, A]])
    assert cut_at_eos(x).tolist() == [[SOS, A, EOS, PAD, PAD], [SOS, A, A, A, A]]


def test_entropy_floor_of_anbn_matches_the_closed_form():
    """Words aⁿbⁿ, n = 1…N equally likely: after SOS aᵏ the next token is b with probability
    1/(N − k + 1); every other target is certain."""
    n_max = 8
    words = FormalLanguageWorld("aNbN", max_length=2 * n_max).split("train").x
    nats = 0.0
    for n in range(1, n_max + 1):
        nats += sum(-math.log((n_max - k) / (n_max - k + 1)) for k in range(1, n))
        nats += -math.log(1 / (n_max - n + 1))
    targets = sum(2 * n + 1 for n in range(1, n_max + 1))
    assert entropy_floor(words) == pytest.approx(nats / targets)


def test_entropy_floor_of_a_deterministic_set_and_of_a_coin():
    assert entropy_floor(torch.tensor([row(SOS, A, B, EOS)] * 4)) == 0.0
    coin = torch.tensor([row(SOS, A, EOS), row(SOS, B, EOS)])
    assert entropy_floor(coin) == pytest.approx(math.log(2) / 2)  # 2 targets, one of them a coin


def test_no_model_beats_the_floor():
    from identifiable.learners.language_model import LanguageModel

    world = FormalLanguageWorld("aNbN", max_length=10)
    model = LanguageModel(d_model=8, heads=2, feedforward=32, layers=1, steps=60, lr=1e-2,
                          batch_size=16, eval_every=30).fit(world)  # fmt: skip
    assert model.best_validation_loss_ >= entropy_floor(world.split("validation").x)


def test_bad_inputs():
    with pytest.raises(ValueError, match="prompt_length must be in 1…4"):
        rule_accuracies(torch.zeros((2, 4), dtype=torch.long), rules("aNbN"), prompt_length=5)
    with pytest.raises(ValueError, match=r"\(n, T\) token ids"):
        rule_accuracies(torch.zeros(4), rules("aNbN"), prompt_length=1)
    with pytest.raises(ValueError, match="integer token ids"):
        entropy_floor(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="no sequences"):
        rule_accuracies(torch.zeros((0, 4), dtype=torch.long), rules("aNbN"), prompt_length=1)
