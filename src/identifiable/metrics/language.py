"""Metrics of language models on formal languages: rule accuracies of completions, the entropy
floor of next-token prediction.

Rule extrapolation — Mészáros, Ujváry, Brendel, Reizinger, Huszár (2024), "Rule Extrapolation in
Language Modeling", NeurIPS, arXiv:2409.13728 (official code meszarosanna/rule_extrapolation,
``runner.py``, read for the facts). For completed sequences s_i = SOS · prompt · completion
(:meth:`identifiable.learners.language_model.LanguageModel.complete`) of a language with rules
R1, R2 (:mod:`identifiable.worlds.grammar_rules`):

    finished       = (1/n) Σ_i 1[s_i contains EOS]
    rule_1         = (1/|F|) Σ_{i ∈ F} 1[R1(s_i)]               F = the finished sequences
    rule_2         = (1/|F|) Σ_{i ∈ F} 1[R2(s_i)]
    rule_2_completion = (1/|F|) Σ_{i ∈ F} 1[R2(s_i[c:])]        c = after the prompt (bracket
                                                                 languages: after SOS + 2 tokens)
    grammatical    = (1/|F|) Σ_{i ∈ F} 1[s_i ∈ language]

each read up to the first EOS (the reference's "finished" metrics, the ones its tables report;
0 when no sequence finished). The *rule-extrapolation score* is ``rule_1`` on the OOD prompts
(R2 already broken): does the model keep R1 when it cannot keep R2?

Entropy floor — Reizinger, Ujváry, Mészáros, Kerekes, Brendel, Huszár (2024), "Position:
Understanding LLMs Requires More Than Statistical Generalization", ICML, arXiv:2405.01964: the
next-token loss of a model is bounded below by the conditional entropy of the data,

    H = (1/|M|) Σ_{(i,t) ∈ M} −log p(x_{i,t} | x_{i,<t}),   M the non-PAD targets,

with p the conditional distribution of the (finite, equally weighted) set of sequences itself —
exact for a language whose data is every word up to a length (aNbN, aNbNcN), an empirical
lower bound for a sample of a random language. Models at the floor ("saturation") agree on the
support and may still differ on OOD prompts: the non-identifiability the position paper argues.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from identifiable.metrics._registry import declare

__all__ = ["RULE_METRICS", "entropy_floor", "rule_accuracies"]

EOS, PAD = 1, 2  # the token ids of identifiable.worlds.grammar_rules (metrics sit beside worlds)

RULE_METRICS = ("finished", "rule_1", "rule_2", "rule_2_completion", "grammatical")

for _name in RULE_METRICS:
    declare(
        _name,
        higher_is_better=True,
        kind="proportion",
        description=f"{_name.replace('_', ' ')} accuracy of completed sequences (finished ones)",
    )
declare(
    "entropy_floor",
    higher_is_better=False,
    bounds=(0.0, None),
    description="conditional entropy of the next token given the prefix (nats per token)",
)


def _tokens(sequences, name: str) -> torch.Tensor:
    tensor = torch.as_tensor(sequences)
    if tensor.ndim != 2:
        raise ValueError(f"{name} must be (n, T) token ids, got shape {tuple(tensor.shape)}")
    if tensor.is_floating_point():
        if not bool(torch.isfinite(tensor).all()) or not torch.equal(tensor, tensor.round()):
            raise ValueError(f"{name} must hold integer token ids (no NaN, no fractions)")
    return tensor.long()


def cut_at_eos(sequences: torch.Tensor) -> torch.Tensor:
    """Every token after a row's first EOS becomes PAD (rows without EOS unchanged)."""
    is_eos = sequences == EOS
    after = (is_eos.long().cumsum(1) - is_eos.long()) > 0
    return torch.where(after, PAD, sequences)


def rule_accuracies(sequences, rules: Any, prompt_length: int) -> dict[str, float]:
    """The module docstring's accuracies of completed ``sequences`` (n, T) whose first
    ``prompt_length`` tokens (SOS included) are the prompt; ``rules`` a language's
    :class:`identifiable.worlds.grammar_rules.Rules`."""
    tokens = _tokens(sequences, "sequences")
    if not 1 <= prompt_length <= tokens.shape[1]:
        raise ValueError(
            f"prompt_length must be in 1…{tokens.shape[1]} (the sequences' length), "
            f"got {prompt_length}"
        )
    if len(tokens) == 0:
        raise ValueError("no sequences to score")
    finished = (tokens == EOS).any(1)
    scores = {"finished": float(finished.double().mean())}
    done = cut_at_eos(tokens[finished])
    if len(done) == 0:
        return scores | dict.fromkeys(RULE_METRICS[1:], 0.0)
    start = rules.completion_start(prompt_length)
    checks = {
        "rule_1": rules.rule_1(done),
        "rule_2": rules.rule_2(done),
        "rule_2_completion": rules.rule_2(done[:, start:]),
        "grammatical": rules.grammatical(done),
    }
    return scores | {name: float(ok.double().mean()) for name, ok in checks.items()}


def entropy_floor(sequences) -> float:
    """H of the module docstring for the rows of ``sequences`` (n, T), each weighted equally:
    the lowest mean next-token cross-entropy (nats, PAD targets masked) any model can reach on
    exactly these sequences."""
    tokens = _tokens(sequences, "sequences").numpy()
    if tokens.shape[0] == 0 or tokens.shape[1] < 2:
        raise ValueError("entropy_floor needs at least one sequence of two or more tokens")
    total, count = 0.0, 0
    for t in range(1, tokens.shape[1]):
        target = tokens[:, t]
        keep = target != PAD
        if not keep.any():
            continue
        prefix = tokens[keep, : t + 1]
        _, prefix_id = np.unique(prefix[:, :-1], axis=0, return_inverse=True)
        _, pair_id = np.unique(prefix, axis=0, return_inverse=True)
        prefix_counts = np.bincount(prefix_id.ravel())[prefix_id.ravel()]
        pair_counts = np.bincount(pair_id.ravel())[pair_id.ravel()]
        total += float(-np.log(pair_counts / prefix_counts).sum())
        count += int(keep.sum())
    return total / count
