"""Meaning of the language metrics: rule accuracies are the reference's "finished" metrics (rows
read up to their first EOS, unfinished rows left out), the entropy floor is the conditional
entropy of the sequences themselves, counted by brute force."""

import math
from collections import Counter

import numpy as np
import pytest
import torch

from identifiable.metrics.language import RULE_METRICS, cut_at_eos, entropy_floor, rule_accuracies
from identifiable.worlds.grammar_rules import EOS, LANGUAGES, PAD, SOS, rules

A, B = 3, 4


def random_completions(language, n, prompt_length, width, seed):
    """SOS + a random prompt of the language's letters, then random letters, EOS and PAD."""
    g = np.random.default_rng(seed)
    letters = list(rules(language).alphabet)
    prompt = g.choice(letters, size=(n, prompt_length - 1))
    rest = g.choice(letters + [EOS, PAD], size=(n, width - prompt_length))
    return torch.tensor(np.concatenate([np.full((n, 1), SOS), prompt, rest], 1))


def slow_rule_accuracies(x, r, prompt_length):
    """Row by row: keep the rows with an EOS, read each up to and including its first EOS, and
    average every check over those rows (0 for all when none finished)."""
    rows = [row.tolist() for row in x]
    finished = [row[: row.index(EOS) + 1] for row in rows if EOS in row]
    scores = {"finished": len(finished) / len(rows)}
    if not finished:
        return scores | dict.fromkeys(RULE_METRICS[1:], 0.0)
    start = r.completion_start(prompt_length)

    def mean(check, cut=0):
        return sum(bool(check(torch.tensor([s[cut:]]))) for s in finished) / len(finished)

    return scores | {
        "rule_1": mean(r.rule_1),
        "rule_2": mean(r.rule_2),
        "rule_2_completion": mean(r.rule_2, start),
        "grammatical": mean(r.grammatical),
    }


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_rule_accuracies_are_the_references_finished_metrics(language):
    """Every accuracy equals the row-by-row definition: the share of rows with an EOS, and each
    rule's share among those rows, each read up to its first EOS; rule_2_completion reads the
    completion after the prompt (after SOS and two tokens for the bracket languages)."""
    prompt_length = 7
    x = random_completions(language, 300, prompt_length, 16, seed=len(language))
    got = rule_accuracies(x, rules(language), prompt_length)
    expected = slow_rule_accuracies(x, rules(language), prompt_length)
    assert got.keys() == expected.keys() == set(RULE_METRICS)
    for name in RULE_METRICS:
        assert got[name] == pytest.approx(expected[name], abs=1e-12), name
    assert 0 < got["finished"] < 1


def test_tokens_after_the_first_eos_do_not_count():
    """Anything after the first EOS (here a letter that would break every rule of aNbN) leaves
    every accuracy unchanged, and cut_at_eos turns exactly those tokens into PAD."""
    clean = torch.tensor([[SOS, A, A, B, B, EOS, PAD, PAD], [SOS, A, B, EOS, PAD, PAD, PAD, PAD]])
    dirty = clean.clone()
    dirty[0, 6:] = torch.tensor([B, A])
    dirty[1, 4:] = torch.tensor([EOS, A, A, B])
    assert rule_accuracies(dirty, rules("aNbN"), 2) == rule_accuracies(clean, rules("aNbN"), 2)
    assert rule_accuracies(clean, rules("aNbN"), 2) == dict.fromkeys(RULE_METRICS, 1.0)
    assert torch.equal(cut_at_eos(dirty), clean)


def test_when_nothing_finished_every_metric_is_zero():
    """No EOS anywhere: every metric of RULE_METRICS is reported, and all are 0 (as the
    reference's sum/(len + 1e-8) of empty lists)."""
    x = torch.tensor([[SOS, A, B, A], [SOS, B, B, A]])
    assert rule_accuracies(x, rules("aNbN"), 2) == dict.fromkeys(RULE_METRICS, 0.0)


def test_a_prompt_may_fill_the_whole_sequence():
    """prompt_length may be T: for a bracket language the completion check starts after SOS and
    the two breaking tokens anyway (here ")" "[" then "]" EOS: brackets matched, parentheses
    not)."""
    x = torch.tensor([[SOS, 4, 5, 6, EOS]])
    scores = rule_accuracies(x, rules("dyck"), prompt_length=5)
    assert scores["finished"] == 1.0 and scores["rule_1"] == 1.0
    assert scores["rule_2"] == 0.0 and scores["rule_2_completion"] == 1.0


def test_integer_valued_floats_are_token_ids_and_fractions_are_not():
    """Float input holding whole numbers is read as token ids (same scores as the long tensor);
    fractions, NaN and infinities are refused, for both metrics, and the error names the
    argument."""
    x = torch.tensor([[SOS, A, B, EOS], [SOS, B, A, EOS]])
    as_float = x.double()
    assert rule_accuracies(as_float, rules("aNbN"), 2) == rule_accuracies(x, rules("aNbN"), 2)
    assert entropy_floor(as_float.numpy()) == entropy_floor(x)
    for bad in ([[0.0, 3.5]], [[0.0, np.inf]], [[np.nan, 3.0]]):
        with pytest.raises(ValueError, match="sequences must hold integer token ids"):
            entropy_floor(np.array(bad))
        with pytest.raises(ValueError, match="sequences must hold integer token ids"):
            rule_accuracies(np.array(bad), rules("aNbN"), 1)
    with pytest.raises(ValueError, match=r"sequences must be \(n, T\)"):
        entropy_floor(np.zeros(3))


def slow_entropy(rows):
    """−(1/|M|) Σ log p̂(x_t | x_<t) over non-PAD targets, p̂ counted over the rows."""
    prefix_counts, pair_counts = Counter(), Counter()
    targets = []
    for row in rows:
        for t in range(1, len(row)):
            if row[t] != PAD:
                prefix_counts[tuple(row[:t])] += 1
                pair_counts[tuple(row[: t + 1])] += 1
                targets.append(tuple(row[: t + 1]))
    return -sum(math.log(pair_counts[p] / prefix_counts[p[:-1]]) for p in targets) / len(targets)


def test_entropy_floor_is_the_conditional_entropy_of_the_rows():
    """On random sequences with PAD tails (and repeats) the floor equals the brute-force count of
    −log p̂(next | prefix) over every non-PAD target."""
    g = np.random.default_rng(0)
    rows = []
    for _ in range(200):
        length = int(g.integers(1, 6))
        rows.append([SOS, *g.integers(3, 5, size=length).tolist(), EOS] + [PAD] * (6 - length))
    assert entropy_floor(torch.tensor(rows)) == pytest.approx(slow_entropy(rows), rel=1e-12)


def test_pad_targets_are_masked_wherever_they_are():
    """A PAD column in the middle does not end the count: later targets still count (here a coin
    at the last position: 2 of 4 targets carry log 2)."""
    x = torch.tensor([[SOS, A, PAD, A], [SOS, A, PAD, B]])
    assert entropy_floor(x) == pytest.approx(math.log(2) / 2)
    assert entropy_floor(x) == pytest.approx(slow_entropy(x.tolist()))


def test_entropy_floor_of_the_smallest_inputs():
    """One sequence is certain (floor 0); two tokens are enough (a coin after SOS: log 2); no
    sequence or a single column has no target and is refused."""
    assert entropy_floor(torch.tensor([[SOS, A, B, EOS]])) == 0.0
    assert entropy_floor(torch.tensor([[SOS, A], [SOS, B]])) == pytest.approx(math.log(2))
    for empty in (torch.zeros((0, 4), dtype=torch.long), torch.zeros((3, 1), dtype=torch.long)):
        with pytest.raises(ValueError, match="at least one sequence of two or more tokens"):
            entropy_floor(empty)
