"""The rules of the formal languages of rule extrapolation, as vectorised checks on token batches.

Mészáros, Ujváry, Brendel, Reizinger, Huszár (2024), "Rule Extrapolation in Language Modeling: A
Study of Compositional Generalization on OOD Prompts", NeurIPS, arXiv:2409.13728; official code
meszarosanna/rule_extrapolation (``data.py``, read for the facts). Every language is the
intersection of two rules, R1 ∩ R2; an OOD prompt already breaks R2, and *rule extrapolation* is
whether a model's completion still obeys R1:

    language   class              R1                                  R2
    aNbN       context-free       #a = #b                             a's before b's
    aNbNcN     context-sensitive  #a = #b = #c                        a's before b's before c's
    baN        regular            #a even                             begins with b
    bbaN       regular            #a after the last b even            b's before a's
    dyck       context-free       brackets [ ] matched                parentheses ( ) matched
    cs_dyck    context-sensitive  brackets [ ] matched                parentheses ( ) matched

A Dyck word also nests properly (``([)]`` is not one); the context-sensitive Dyck language
(the reference's ``not_nested_parentheses_and_brackets``) lets the two kinds cross.

Tokens (the reference's ids): SOS 0, EOS 1, PAD 2, a 3, b 4, c 5; for the bracket languages
``(`` 3, ``)`` 4, ``[`` 5, ``]`` 6. Every check takes a (n, T) integer tensor — whole sequences
with their SOS, EOS and PAD — and returns an (n,) bool tensor; tokens a rule does not name are
ignored, as in the reference (e.g. "#a = #b" counts only a's and b's). Edge cases follow the
reference: "a's before b's" holds when either letter is missing; "b's before a's" fails without
a b; "begins with b" reads the first token after a leading SOS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "A", "B", "C", "CLOSE_BRACKET", "CLOSE_PAREN", "EOS", "LANGUAGES", "OPEN_BRACKET",
    "OPEN_PAREN", "PAD", "SOS", "Rules", "rules",
]  # fmt: skip

SOS, EOS, PAD = 0, 1, 2
A, B, C = 3, 4, 5
OPEN_PAREN, CLOSE_PAREN, OPEN_BRACKET, CLOSE_BRACKET = 3, 4, 5, 6

Check = Callable[[torch.Tensor], torch.Tensor]


def _count(seq: torch.Tensor, token: int) -> torch.Tensor:
    return (seq == token).sum(1)


def _first(seq: torch.Tensor, token: int) -> torch.Tensor:
    """Index of the first ``token`` per row; T where there is none."""
    t = seq.shape[1]
    positions = torch.arange(t, device=seq.device).expand_as(seq)
    return F.pad(torch.where(seq == token, positions, t), (0, 1), value=t).min(1).values


def _last(seq: torch.Tensor, token: int) -> torch.Tensor:
    """Index of the last ``token`` per row; −1 where there is none."""
    positions = torch.arange(seq.shape[1], device=seq.device).expand_as(seq)
    return F.pad(torch.where(seq == token, positions, -1), (0, 1), value=-1).max(1).values


def before(seq: torch.Tensor, first: int, second: int) -> torch.Tensor:
    """Every ``first`` precedes every ``second`` (true when either is absent)."""
    return _last(seq, first) < _first(seq, second)


def as_before_bs_before_cs(seq: torch.Tensor) -> torch.Tensor:
    """The reference's check_as_before_bs_before_cs: with c's and b's and a's, last a < first b
    and last b < first c; with only two of the letters, those two in order."""
    return before(seq, A, B) & before(seq, B, C) & before(seq, A, C)


def bs_before_as(seq: torch.Tensor) -> torch.Tensor:
    """At least one b, and every b precedes every a (the reference's check_bs_before_as)."""
    return (_count(seq, B) > 0) & before(seq, B, A)


def even_as(seq: torch.Tensor) -> torch.Tensor:
    return _count(seq, A) % 2 == 0


def even_as_after_last_b(seq: torch.Tensor) -> torch.Tensor:
    """The number of a's after the last b is even (all a's when there is no b)."""
    positions = torch.arange(seq.shape[1], device=seq.device)
    after = positions > _last(seq, B)[:, None]
    return ((seq == A) & after).sum(1) % 2 == 0


def begins_with(token: int) -> Check:
    """The first token after a leading SOS (the first token when there is none) is ``token``."""

    def check(seq: torch.Tensor) -> torch.Tensor:
        if seq.shape[1] == 0:
            return torch.zeros(len(seq), dtype=torch.bool, device=seq.device)
        starts = seq[:, 0] == SOS
        second = seq[:, 1] if seq.shape[1] > 1 else torch.full_like(seq[:, 0], PAD)
        return torch.where(starts, second, seq[:, 0]) == token

    return check


def matched(opening: int, closing: int) -> Check:
    """One kind of bracket is balanced: the running depth never drops below 0 and ends at 0."""

    def check(seq: torch.Tensor) -> torch.Tensor:
        depth = ((seq == opening).long() - (seq == closing).long()).cumsum(1)
        if seq.shape[1] == 0:
            return torch.ones(len(seq), dtype=torch.bool, device=seq.device)
        return (depth.min(1).values >= 0) & (depth[:, -1] == 0)

    return check


def nested(seq: torch.Tensor) -> torch.Tensor:
    """Parentheses and brackets together form a Dyck word: balanced, and each closer meets the
    last unclosed opener of its own kind (``([])`` yes, ``([)]`` no).

    Vectorised: with D(t) the depth after token t over both kinds, a closer at t closes the
    latest opener t' < t with D(t') = D(t) + 1; the word nests iff the overall depth stays ≥ 0,
    ends at 0, and every such pair is of one kind. O(n·T²) memory, fine for T ≤ a few hundred.
    """
    opens = (seq == OPEN_PAREN) | (seq == OPEN_BRACKET)
    closes = (seq == CLOSE_PAREN) | (seq == CLOSE_BRACKET)
    depth = (opens.long() - closes.long()).cumsum(1)
    if seq.shape[1] == 0:
        return torch.ones(len(seq), dtype=torch.bool, device=seq.device)
    balanced = (depth.min(1).values >= 0) & (depth[:, -1] == 0)
    t = seq.shape[1]
    positions = torch.arange(t, device=seq.device)
    earlier = positions[None, :] < positions[:, None]  # [closer t, opener t']
    candidate = (
        opens[:, None, :]
        & earlier[None]
        & (depth[:, None, :] == (depth + 1)[:, :, None])  # D(t') = D(t) + 1
    )
    opener = torch.where(candidate, positions, -1).max(2).values  # (n, T) latest such t'
    kind_of_opener = torch.gather(seq, 1, opener.clamp(min=0))
    expected = torch.where(seq == CLOSE_PAREN, OPEN_PAREN, OPEN_BRACKET)
    pairs_match = ~closes | ((opener >= 0) & (kind_of_opener == expected))
    return balanced & pairs_match.all(1)


def _both(first: Check, second: Check) -> Check:
    return lambda seq: first(seq) & second(seq)


def prefix_of_anbncn(seq: torch.Tensor) -> torch.Tensor:
    """The reference's check_in_dist_anbncn: the prompt can still be completed to aⁿbⁿcⁿ."""
    a, b, c = _count(seq, A), _count(seq, B), _count(seq, C)
    no_c = before(seq, A, B) & (a >= b)
    with_c = before(seq, A, B) & before(seq, B, C) & (a == b) & (b >= c)
    return torch.where(c == 0, (b == 0) | no_c, with_c)


@dataclass(frozen=True)
class Rules:
    """One language's checks, each (n, T) tokens → (n,) bool.

    rule_1, rule_2:    R1 and R2 (module docstring).
    grammatical:       membership in the language (R1 ∩ R2; for Dyck, proper nesting).
    in_distribution:   a prompt can still be completed to a word of the language (the
                       reference's prompt_grammar_rules); OOD prompts are the rest.
    completion_start:  where rule_2 on the completion alone starts: after the prompt (the
                       reference's p[K+1:]) or, for the bracket languages, after SOS and the two
                       tokens that break R2 (the reference's p[3:], which keeps the rest of the
                       prompt).
    alphabet:          the letters of the test prompts.
    """

    rule_1: Check
    rule_2: Check
    grammatical: Check
    in_distribution: Check
    alphabet: tuple[int, ...]
    brackets: bool = False

    def completion_start(self, prompt_length: int) -> int:
        """Index of the first token that rule_2_completion reads (prompt_length counts SOS)."""
        return 3 if self.brackets else prompt_length


_AB = (A, B)
_BRACKETS = (OPEN_PAREN, CLOSE_PAREN, OPEN_BRACKET, CLOSE_BRACKET)
_SAME_AB = lambda seq: _count(seq, A) == _count(seq, B)  # noqa: E731
_SAME_ABC = lambda seq: _SAME_AB(seq) & (_count(seq, B) == _count(seq, C))  # noqa: E731
_BEFORE_AB = lambda seq: before(seq, A, B)  # noqa: E731
_PARENS = matched(OPEN_PAREN, CLOSE_PAREN)
_SQUARE = matched(OPEN_BRACKET, CLOSE_BRACKET)

LANGUAGES: dict[str, Rules] = {
    "aNbN": Rules(
        rule_1=_SAME_AB,
        rule_2=_BEFORE_AB,
        grammatical=_both(_SAME_AB, _BEFORE_AB),
        in_distribution=lambda seq: before(seq, A, B) & (_count(seq, A) >= _count(seq, B)),
        alphabet=_AB,
    ),
    "aNbNcN": Rules(
        rule_1=_SAME_ABC,
        rule_2=as_before_bs_before_cs,
        grammatical=_both(_SAME_ABC, as_before_bs_before_cs),
        in_distribution=prefix_of_anbncn,
        alphabet=(A, B, C),
    ),
    "baN": Rules(
        rule_1=even_as,
        rule_2=begins_with(B),
        grammatical=_both(even_as, begins_with(B)),
        in_distribution=begins_with(B),
        alphabet=_AB,
    ),
    "bbaN": Rules(
        rule_1=even_as_after_last_b,
        rule_2=bs_before_as,
        grammatical=_both(even_as_after_last_b, bs_before_as),
        in_distribution=begins_with(B),
        alphabet=_AB,
    ),
    "dyck": Rules(
        rule_1=_SQUARE,
        rule_2=_PARENS,
        grammatical=nested,
        in_distribution=begins_with(OPEN_PAREN),
        alphabet=_BRACKETS,
        brackets=True,
    ),
    "cs_dyck": Rules(
        rule_1=_SQUARE,
        rule_2=_PARENS,
        grammatical=_both(_SQUARE, _PARENS),
        in_distribution=begins_with(OPEN_PAREN),
        alphabet=_BRACKETS,
        brackets=True,
    ),
}

#: The reference's grammar names for our language names.
REFERENCE_NAMES = {
    "aNbN": "aNbN",
    "aNbNcN": "aNbNcN",
    "baN": "baN",
    "bbaN": "bbaN",
    "dyck": "parentheses_and_brackets",
    "cs_dyck": "not_nested_parentheses_and_brackets",
}


def rules(language: str) -> Rules:
    """The :class:`Rules` of ``language`` (one of :data:`LANGUAGES`; the reference's names are
    accepted too)."""
    aliases = {v: k for k, v in REFERENCE_NAMES.items()}
    name = aliases.get(language, language)
    if name not in LANGUAGES:
        raise ValueError(
            f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)} (or the "
            f"reference's names {', '.join(REFERENCE_NAMES.values())})"
        )
    return LANGUAGES[name]
