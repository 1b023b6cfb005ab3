"""Formal-language worlds of rule extrapolation: sequences of six languages, their test prompts.

Mészáros, Ujváry, Brendel, Reizinger, Huszár (2024), "Rule Extrapolation in Language Modeling: A
Study of Compositional Generalization on OOD Prompts", NeurIPS, arXiv:2409.13728; official code
meszarosanna/rule_extrapolation (``data.py``, ``datamodule.py``, read for the facts; rules and
tokens in :mod:`identifiable.worlds.grammar_rules`). With L = ``max_length`` content tokens
(SOS and EOS not counted) every sequence is SOS · w · EOS, padded with PAD to L + 2:

    aNbN     w = aⁿbⁿ,   n ∈ {1, …, ⌊L/2⌋}, every n once (train = validation = test, as the
                         reference's ``all_sequences``)
    aNbNcN   w = aⁿbⁿcⁿ, n ∈ {1, …, ⌊L/3⌋}, likewise
    baN      l ~ U{1, …, L}, k ~ U{0, …, ⌊(l−1)/2⌋}: b, then a uniform shuffle of 2k a's and
             l − 1 − 2k b's
    bbaN     l, k as baN: b^(l−2k) a^(2k)
    dyck     l ~ U{1, …, ⌊L/2⌋}: a random single-block Dyck word of length ≤ 2l — from an empty
             stack open ( or [ (½ each); otherwise pick uniformly among (, [ and the closer of the
             top, forced to close once the open brackets fill the remaining length; stop when
             the stack empties (the reference's generator: words never concatenate blocks)
    cs_dyck  l as dyck: a word of length exactly 2l whose parentheses and brackets are each
             matched but may cross — uniform over the moves allowed by two separate stacks,
             closing forced at the end (the reference's not-nested generator)

``train``, ``validation`` and ``test`` of the random languages are independent draws of
``n_train``, ``n_validation``, ``n_test`` sequences (with repeats, as the reference) from the
world's seed. Test prompts (:meth:`FormalLanguageWorld.prompts`): SOS followed by every string of
``length`` letters of the alphabet ({a, b}; {a, b, c} for aNbNcN) — 64 for length 6 — split into
in-distribution (can still be completed to a word) and OOD (R2 already broken); aNbN: 4 ID
(aᵏb^(6−k), k = 3…6) and 60 OOD. Two languages differ from plain enumeration, as the reference:
bbaN's ID prompts are b^(m−k)aᵏ (k = 1…m−1) and its OOD prompts a·b^(m−1−k)aᵏ (k = 1…m−2)
(the reference draws 2^m of them at random with repeats; we list each once); the bracket
languages' prompts are SOS ( [ w (ID) and SOS ) [ w (OOD) for every single-block Dyck word w of
length m (the reference draws 2^(m−1) pairs from its generator; we list each once).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import torch

from identifiable.worlds.base import Batch, draw_splits, pick_split
from identifiable.worlds.grammar_rules import (
    CLOSE_BRACKET,
    CLOSE_PAREN,
    EOS,
    OPEN_BRACKET,
    OPEN_PAREN,
    PAD,
    REFERENCE_NAMES,
    SOS,
    A,
    B,
    C,
    Rules,
    nested,
    rules,
)

__all__ = ["FormalLanguageWorld", "Prompts"]

_SPLITS = ("train", "validation", "test")
_ENUMERATED = ("aNbN", "aNbNcN")


@dataclass(frozen=True)
class Prompts:
    """Test prompts (SOS + ``length`` tokens, or + ``length`` + 2 for the bracket languages)."""

    in_distribution: torch.Tensor  # (n_id, P) still completable
    ood: torch.Tensor  # (n_ood, P) R2 already broken


def _uniform_below(high: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One uniform draw from {0, …, high − 1} per entry (high ≥ 1)."""
    u = torch.rand(high.shape, generator=generator, dtype=torch.float64)
    return torch.minimum((u * high).long(), high - 1)


@dataclass(frozen=True)
class FormalLanguageWorld:
    """Sequences of one formal language (module docstring) with seeded splits and test prompts.

    language:      aNbN, aNbNcN, baN, bbaN, dyck or cs_dyck (the reference's names work too).
    max_length:    L, content tokens per sequence without SOS and EOS (the reference's paper
                   runs: 256); sequences are (L + 2) tokens, padded.
    n_train, n_validation, n_test: sequences per split of the random languages (ignored by
                   aNbN and aNbNcN, whose splits are every sequence).
    seed:          draws the random languages' splits.
    """

    language: str = "aNbN"
    max_length: int = 64
    n_train: int = 512
    n_validation: int = 512
    n_test: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        rules(self.language)  # raises for an unknown language
        aliases = {v: k for k, v in REFERENCE_NAMES.items()}
        object.__setattr__(self, "language", aliases.get(self.language, self.language))
        minimum = {"aNbNcN": 3, "baN": 1, "bbaN": 1}.get(self.language, 2)
        if not isinstance(self.max_length, int) or self.max_length < minimum:
            raise ValueError(
                f"max_length must be an int >= {minimum} for {self.language} (the shortest word), "
                f"got {self.max_length!r}"
            )
        for name in ("n_train", "n_validation", "n_test"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")

    @property
    def rules(self) -> Rules:
        return rules(self.language)

    @property
    def vocab_size(self) -> int:
        """Token ids in use: SOS, EOS, PAD and the letters."""
        return max(self.rules.alphabet) + 1

    @property
    def sequence_length(self) -> int:
        return self.max_length + 2

    # ------------------------------------------------------------------ sequences
    def sample(self, n: int, *, generator: torch.Generator) -> Batch:
        """n sequences from the language's generator: ``x`` (n, L + 2) tokens, ``z`` (n,) the
        content length of each."""
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        draw = getattr(self, f"_draw_{self.language}")
        x = draw(n, generator)
        return Batch(z=self.content_lengths(x), x=x)

    def split(self, name: str) -> Batch:
        """``train``, ``validation`` or ``test`` (every word for aNbN and aNbNcN)."""
        return pick_split(self._splits, name)

    @cached_property
    def _splits(self) -> dict[str, Batch]:
        if self.language in _ENUMERATED:
            x = self.every_word()
            batch = Batch(z=self.content_lengths(x), x=x)
            return dict.fromkeys(_SPLITS, batch)
        sizes = {"train": self.n_train, "validation": self.n_validation, "test": self.n_test}
        return draw_splits(self, sizes, self.seed)

    def every_word(self) -> torch.Tensor:
        """aNbN / aNbNcN: every word, n = 1, 2, … up to the length limit, as (N, L + 2)."""
        if self.language not in _ENUMERATED:
            raise ValueError(f"{self.language} has no finite list of words up to a length")
        letters = (A, B) if self.language == "aNbN" else (A, B, C)
        counts = torch.arange(1, self.max_length // len(letters) + 1)
        return self._blocks(counts[:, None].expand(-1, len(letters)), letters)

    def content_lengths(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens between SOS and EOS per row."""
        return ((x != SOS) & (x != EOS) & (x != PAD)).sum(1)

    def _frame(self, content: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """SOS · content[:length] · EOS · PAD… as (n, L + 2)."""
        n = len(content)
        x = torch.full((n, self.sequence_length), PAD, dtype=torch.long)
        x[:, 0] = SOS
        positions = torch.arange(self.max_length)
        inside = positions[None] < lengths[:, None]
        x[:, 1:-1] = torch.where(inside, content, PAD)
        x[torch.arange(n), lengths + 1] = EOS
        return x

    def _blocks(self, counts: torch.Tensor, letters: tuple[int, ...]) -> torch.Tensor:
        """Rows of consecutive runs letters[0]^counts[:, 0] letters[1]^counts[:, 1] …"""
        ends = counts.cumsum(1)  # (n, runs)
        positions = torch.arange(self.max_length)
        run = (positions[None, :, None] >= ends[:, None, :]).sum(2)  # which run each slot is in
        content = torch.tensor(letters + (PAD,))[run.clamp(max=len(letters))]
        return self._frame(content, ends[:, -1])

    def _draw_aNbN(self, n: int, generator: torch.Generator) -> torch.Tensor:
        counts = 1 + _uniform_below(torch.full((n,), self.max_length // 2), generator)
        return self._blocks(counts[:, None].expand(-1, 2), (A, B))

    def _draw_aNbNcN(self, n: int, generator: torch.Generator) -> torch.Tensor:
        counts = 1 + _uniform_below(torch.full((n,), self.max_length // 3), generator)
        return self._blocks(counts[:, None].expand(-1, 3), (A, B, C))

    def _lengths_and_pairs(self, n: int, generator: torch.Generator):
        lengths = 1 + _uniform_below(torch.full((n,), self.max_length), generator)
        pairs = _uniform_below((lengths - 1) // 2 + 1, generator)
        return lengths, pairs

    def _draw_baN(self, n: int, generator: torch.Generator) -> torch.Tensor:
        lengths, pairs = self._lengths_and_pairs(n, generator)
        rest = self.max_length - 1
        keys = torch.rand((n, rest), generator=generator)
        keys = torch.where(torch.arange(rest)[None] < (lengths - 1)[:, None], keys, 2.0)
        ranks = keys.argsort(1).argsort(1)  # a uniform shuffle of the first l − 1 slots
        shuffled = torch.where(ranks < 2 * pairs[:, None], A, B)
        content = torch.cat([torch.full((n, 1), B), shuffled], 1)
        return self._frame(content, lengths)

    def _draw_bbaN(self, n: int, generator: torch.Generator) -> torch.Tensor:
        lengths, pairs = self._lengths_and_pairs(n, generator)
        counts = torch.stack([lengths - 2 * pairs, 2 * pairs], 1)
        return self._blocks(counts, (B, A))

    def _draw_dyck(self, n: int, generator: torch.Generator) -> torch.Tensor:
        targets = 2 * (1 + _uniform_below(torch.full((n,), self.max_length // 2), generator))
        openers = torch.tensor([OPEN_PAREN, OPEN_BRACKET])
        closer_of = torch.zeros(CLOSE_BRACKET + 1, dtype=torch.long)
        closer_of[OPEN_PAREN], closer_of[OPEN_BRACKET] = CLOSE_PAREN, CLOSE_BRACKET
        content = torch.full((n, self.max_length), PAD, dtype=torch.long)
        stack = torch.zeros((n, self.max_length + 1), dtype=torch.long)  # openers, bottom first
        depth = torch.zeros(n, dtype=torch.long)
        length = torch.zeros(n, dtype=torch.long)
        active = torch.ones(n, dtype=torch.bool)
        rows = torch.arange(n)
        for t in range(self.max_length):
            active &= length < targets
            if not active.any():
                break
            top = stack[rows, (depth - 1).clamp(min=0)]
            choice = _uniform_below(torch.where(depth == 0, 2, 3), generator)
            token = torch.where(choice < 2, openers[choice.clamp(max=1)], closer_of[top])
            forced = (depth > 0) & (length + depth >= targets)
            token = torch.where(forced, closer_of[top], token)
            token = torch.where(active, token, PAD)
            content[:, t] = token
            opening = active & ((token == OPEN_PAREN) | (token == OPEN_BRACKET))
            stack[rows, depth] = torch.where(opening, token, stack[rows, depth])
            depth = depth + opening.long() - (active & ~opening).long()
            length = length + active.long()
            active &= depth > 0  # the reference stops once the stack is empty
        return self._frame(content, length)

    def _draw_cs_dyck(self, n: int, generator: torch.Generator) -> torch.Tensor:
        targets = 2 * (1 + _uniform_below(torch.full((n,), self.max_length // 2), generator))
        content = torch.full((n, self.max_length), PAD, dtype=torch.long)
        parens = torch.zeros(n, dtype=torch.long)
        square = torch.zeros(n, dtype=torch.long)
        for t in range(self.max_length):
            active = t < targets
            if not active.any():
                break
            # the moves the two stacks allow, in the reference's order of choices
            moves = torch.stack(
                [
                    torch.full((n,), OPEN_PAREN),
                    torch.full((n,), OPEN_BRACKET),
                    torch.where(parens > 0, CLOSE_PAREN, CLOSE_BRACKET),
                    torch.full((n,), CLOSE_BRACKET),
                ],
                1,
            )
            both = (parens > 0) & (square > 0)
            choices = torch.where(parens + square == 0, 2, torch.where(both, 4, 3))
            token = moves[torch.arange(n), _uniform_below(choices, generator)]
            open_count = parens + square
            forced = (open_count > 0) & (t + open_count >= targets)
            closers = torch.stack(
                [
                    torch.where(parens > 0, CLOSE_PAREN, CLOSE_BRACKET),
                    torch.where(square > 0, CLOSE_BRACKET, CLOSE_PAREN),
                ],
                1,
            )
            pick = _uniform_below(torch.where(both, 2, 1), generator)
            forced_token = closers[torch.arange(n), pick]
            token = torch.where(forced, forced_token, token)
            token = torch.where(active, token, PAD)
            content[:, t] = token
            parens = parens + (token == OPEN_PAREN).long() - (token == CLOSE_PAREN).long()
            square = square + (token == OPEN_BRACKET).long() - (token == CLOSE_BRACKET).long()
        return self._frame(content, targets)

    # ------------------------------------------------------------------ prompts
    def prompts(self, length: int = 6) -> Prompts:
        """The test prompts of ``length`` letters (module docstring), with SOS, split into ID and
        OOD by the language's rules."""
        if not isinstance(length, int) or length < 1:
            raise ValueError(f"prompt length must be an int >= 1, got {length!r}")
        # a completion needs EOS (two closers and EOS after a bracket prompt's "( [")
        limit = self.max_length - (4 if self.rules.brackets else 1)
        if length > limit:
            raise ValueError(
                f"prompt length {length} leaves no room to complete sequences of max_length "
                f"{self.max_length}; use at most {limit} letters"
            )
        sos = torch.full((1,), SOS)
        if self.language == "bbaN":
            ids = [torch.cat([sos, torch.tensor([B] * (length - k) + [A] * k)])
                   for k in range(1, length)]  # fmt: skip
            ood = [torch.cat([sos, torch.tensor([A] + [B] * (length - 1 - k) + [A] * k)])
                   for k in range(1, length - 1)]  # fmt: skip
            return Prompts(_stack(ids, length + 1), _stack(ood, length + 1))
        if self.rules.brackets:
            words = _single_block_dyck_words(length)
            head = torch.tensor([SOS, OPEN_PAREN, OPEN_BRACKET])
            bad = torch.tensor([SOS, CLOSE_PAREN, OPEN_BRACKET])
            return Prompts(
                torch.cat([head.expand(len(words), 3), words], 1),
                torch.cat([bad.expand(len(words), 3), words], 1),
            )
        letters = torch.tensor(self.rules.alphabet)
        grid = torch.cartesian_prod(*[letters] * length) if length > 1 else letters[:, None]
        everything = torch.cat([sos.expand(len(grid), 1), grid.reshape(len(grid), -1)], 1)
        inside = self.rules.in_distribution(everything)
        return Prompts(everything[inside], everything[~inside])


def _stack(rows: list[torch.Tensor], width: int) -> torch.Tensor:
    return torch.stack(rows) if rows else torch.zeros((0, width), dtype=torch.long)


def _single_block_dyck_words(length: int) -> torch.Tensor:
    """Every Dyck word over ( ) [ ] of exactly ``length`` tokens that is one block — (v) or [v] —
    the words the reference's generator returns at that length; (0, length) when there is none."""
    if length < 2 or length % 2:
        return torch.zeros((0, length), dtype=torch.long)
    symbols = (OPEN_PAREN, CLOSE_PAREN, OPEN_BRACKET, CLOSE_BRACKET)
    grid = torch.tensor(list(itertools.product(symbols, repeat=length)))
    words = grid[nested(grid)]
    opens = ((words == OPEN_PAREN) | (words == OPEN_BRACKET)).long()
    depth = (2 * opens - 1).cumsum(1)
    one_block = (depth[:, :-1] > 0).all(1)
    return words[one_block]
