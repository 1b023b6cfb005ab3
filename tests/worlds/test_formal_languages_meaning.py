"""Meaning of the formal-language worlds: every rule equals the reference's check (a plain-Python
transcription of meszarosanna/rule_extrapolation's ``data.py``) on every short string, edge
cases included; the generators draw the reference's distributions; the prompts are the
reference's, split by the language's own rules."""

import itertools
import math

import pytest
import torch

from identifiable.worlds import grammar_rules as gr
from identifiable.worlds.formal_languages import FormalLanguageWorld
from identifiable.worlds.grammar_rules import (
    CLOSE_BRACKET,
    CLOSE_PAREN,
    EOS,
    LANGUAGES,
    OPEN_BRACKET,
    OPEN_PAREN,
    PAD,
    SOS,
    A,
    B,
    C,
    rules,
)

NAMES = {"a": A, "b": B, "c": C, "(": OPEN_PAREN, ")": CLOSE_PAREN, "[": OPEN_BRACKET,
         "]": CLOSE_BRACKET}  # fmt: skip


# -- the reference's checks, transcribed (they read a list of token ids) --------------------------
def _idx(s, token):
    return [i for i, t in enumerate(s) if t == token]


def ref_same_number_as_bs(s):
    return s.count(A) == s.count(B)


def ref_before(s, first, second):  # check_as_before_bs and friends
    if first not in s or second not in s:
        return True
    return min(_idx(s, second)) > max(_idx(s, first))


def ref_bs_before_as(s):
    if B not in s:
        return False
    if A not in s:
        return True
    return min(_idx(s, A)) > max(_idx(s, B))


def ref_as_before_bs_before_cs(s):
    if C in s:
        if B in s:
            if A in s:
                return max(_idx(s, A)) < min(_idx(s, B)) and max(_idx(s, B)) < min(_idx(s, C))
            return ref_before(s, B, C)
        return ref_before(s, A, C)
    return ref_before(s, A, B)


def ref_even_as_end(s):
    if A not in s:
        return True
    last_b = max(_idx(s, B), default=-1)
    return sum(1 for i in _idx(s, A) if i > last_b) % 2 == 0


def ref_begins_with(s, token):
    """check_begins_with_b / _opening_parenthesis; a lone SOS (an IndexError there) is False."""
    if len(s) == 0:
        return False
    if s[0] == SOS:
        return len(s) > 1 and s[1] == token
    return s[0] == token


def ref_matched(s, opening, closing):
    depth = 0
    for t in s:
        depth += (t == opening) - (t == closing)
        if depth < 0:
            return False
    return depth == 0


def ref_nested(s):
    stack = []
    partner = {CLOSE_PAREN: OPEN_PAREN, CLOSE_BRACKET: OPEN_BRACKET}
    for t in s:
        if t in (OPEN_PAREN, OPEN_BRACKET):
            stack.append(t)
        elif t in partner and (not stack or stack.pop() != partner[t]):
            return False
    return not stack


def ref_in_dist_anbncn(s):
    if C not in s:
        if B not in s:
            return True
        return ref_before(s, A, B) and s.count(A) >= s.count(B)
    return (ref_before(s, A, B) and ref_before(s, B, C) and s.count(A) == s.count(B)
            and s.count(B) >= s.count(C))  # fmt: skip


REFERENCE = {
    "aNbN": (
        ref_same_number_as_bs,
        lambda s: ref_before(s, A, B),
        lambda s: ref_before(s, A, B) and s.count(A) >= s.count(B),
    ),
    "aNbNcN": (
        lambda s: s.count(A) == s.count(B) == s.count(C),
        ref_as_before_bs_before_cs,
        ref_in_dist_anbncn,
    ),
    "baN": (
        lambda s: s.count(A) % 2 == 0,
        lambda s: ref_begins_with(s, B),
        lambda s: ref_begins_with(s, B),
    ),  # fmt: skip
    "bbaN": (ref_even_as_end, ref_bs_before_as, lambda s: ref_begins_with(s, B)),
    "dyck": (
        lambda s: ref_matched(s, OPEN_BRACKET, CLOSE_BRACKET),
        lambda s: ref_matched(s, OPEN_PAREN, CLOSE_PAREN),
        lambda s: ref_begins_with(s, OPEN_PAREN),
    ),
}
REFERENCE["cs_dyck"] = REFERENCE["dyck"]
GRAMMATICAL = {
    "aNbN": lambda s: ref_same_number_as_bs(s) and ref_before(s, A, B),
    "aNbNcN": lambda s: REFERENCE["aNbNcN"][0](s) and ref_as_before_bs_before_cs(s),
    "baN": lambda s: s.count(A) % 2 == 0 and ref_begins_with(s, B),
    "bbaN": lambda s: ref_even_as_end(s) and ref_bs_before_as(s),
    "dyck": ref_nested,
    "cs_dyck": lambda s: REFERENCE["dyck"][0](s) and REFERENCE["dyck"][1](s),
}


def every_string(letters, max_len, sos=True, tail=(EOS, PAD)):
    """Every string of ≤ max_len letters, framed (SOS … EOS PAD…) as the checks see sequences;
    returns the rows as lists and as one (n, T) tensor."""
    width = max_len + 2 + sos
    rows = []
    for n in range(max_len + 1):
        for word in itertools.product(letters, repeat=n):
            row = ([SOS] if sos else []) + list(word) + [tail[0]]
            rows.append(row + [tail[1]] * (width - len(row)))
    return rows, torch.tensor(rows)


def letters_of(language):
    return (A, B, C) if language == "aNbNcN" else rules(language).alphabet


# -- grammar_rules: every check against the reference ---------------------------------------------
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_rule_is_the_references_check_on_every_short_string(language):
    """R1, R2, membership and the ID-prompt check equal the reference's checks (rule_1, rule_2,
    grammar_rules, prompt_grammar_rules) on every framed string of ≤ 6 letters (≤ 5 for the
    four bracket symbols) — EOS and PAD in the sequence are ignored, as there."""
    r = rules(language)
    max_len = 5 if r.brackets else 6
    rows, x = every_string(letters_of(language), max_len)
    rule_1, rule_2, in_dist = REFERENCE[language]
    assert r.rule_1(x).tolist() == [rule_1(s) for s in rows]
    assert r.rule_2(x).tolist() == [rule_2(s) for s in rows]
    assert r.grammatical(x).tolist() == [GRAMMATICAL[language](s) for s in rows]
    assert r.in_distribution(x).tolist() == [in_dist(s) for s in rows]


def test_rules_read_the_whole_sequence_without_sos_too():
    """The checks do not rely on a leading SOS: on unframed strings (the completions
    rule_2_completion reads) they still equal the reference's."""
    rows, x = every_string((A, B, C), 5, sos=False, tail=(PAD, PAD))
    assert gr.as_before_bs_before_cs(x).tolist() == [ref_as_before_bs_before_cs(s) for s in rows]
    assert gr.bs_before_as(x).tolist() == [ref_bs_before_as(s) for s in rows]
    assert gr.even_as_after_last_b(x).tolist() == [ref_even_as_end(s) for s in rows]
    assert gr.prefix_of_anbncn(x).tolist() == [ref_in_dist_anbncn(s) for s in rows]
    assert gr.even_as(x).tolist() == [s.count(A) % 2 == 0 for s in rows]


def test_rule_factories_match_the_reference_when_built_now():
    """matched(opening, closing) and begins_with(token) build the reference's check_matched_* and
    check_begins_with_* for any token pair (LANGUAGES holds checks built at import)."""
    symbols = (OPEN_PAREN, CLOSE_PAREN, OPEN_BRACKET, CLOSE_BRACKET, EOS)  # EOS: another token
    rows, x = every_string(symbols, 5, sos=False, tail=(PAD, PAD))
    for opening, closing in [(OPEN_PAREN, CLOSE_PAREN), (OPEN_BRACKET, CLOSE_BRACKET)]:
        got = gr.matched(opening, closing)(x).tolist()
        assert got == [ref_matched(s, opening, closing) for s in rows]
    for token in (B, OPEN_PAREN):
        for sos in (True, False):
            rows, x = every_string((A, B, C), 3, sos=sos)
            assert gr.begins_with(token)(x).tolist() == [ref_begins_with(s, token) for s in rows]


def test_intersection_of_two_rules_needs_both():
    """A language is R1 ∩ R2: the combined check holds exactly where both rules hold (the
    checks of LANGUAGES are combined this way at import)."""
    rows, x = every_string((A, B), 4)
    both = gr._both(gr.even_as, gr.begins_with(B))(x).tolist()
    assert both == [s.count(A) % 2 == 0 and ref_begins_with(s, B) for s in rows]
    assert any(both) and not all(both)


def test_short_and_empty_batches():
    """Edge lengths: an empty sequence is balanced (and nested) and does not begin with anything;
    one token is read as the first token (a lone SOS begins with nothing); an unbalanced
    one-token bracket sequence is not matched."""
    empty = torch.zeros((3, 0), dtype=torch.long)
    for check, value in [(gr.begins_with(B), False), (gr.matched(OPEN_PAREN, CLOSE_PAREN), True),
                         (gr.nested, True)]:  # fmt: skip
        out = check(empty)
        assert out.shape == (3,) and out.dtype == torch.bool and out.tolist() == [value] * 3
    one = torch.tensor([[B], [SOS], [A]])
    assert gr.begins_with(B)(one).tolist() == [True, False, False]
    two = torch.tensor([[SOS, B], [B, A], [SOS, A]])
    assert gr.begins_with(B)(two).tolist() == [True, True, False]
    lone = torch.tensor([[OPEN_PAREN], [CLOSE_PAREN], [SOS]])
    assert gr.matched(OPEN_PAREN, CLOSE_PAREN)(lone).tolist() == [False, False, True]
    assert gr.nested(lone).tolist() == [False, False, True]


def test_nesting_without_a_leading_sos():
    """Proper nesting is read from the first token on: an opener at index 0 is matched like any
    other (a Dyck word need not follow SOS)."""
    words = ["([])", "[()]", "()", "([)]", "[(])", "(]", "(())[]"]
    width = max(map(len, words))
    x = torch.tensor([[NAMES[c] for c in w] + [PAD] * (width - len(w)) for w in words])
    assert gr.nested(x).tolist() == [ref_nested([NAMES[c] for c in w]) for w in words]
    assert gr.nested(x).tolist() == [True, True, True, False, False, False, True]


def test_checks_stay_on_the_inputs_device():
    """Checked on the meta device (no data, only placement) as a stand-in for an accelerator:
    every check of every language, and the factories' empty-sequence answers."""
    meta = torch.device("meta")
    x = torch.empty((4, 9), dtype=torch.long, device=meta)
    for r in LANGUAGES.values():
        for check in (r.rule_1, r.rule_2, r.grammatical, r.in_distribution):
            out = check(x)
            assert out.device == meta and out.shape == (4,) and out.dtype == torch.bool
    checks = [gr.begins_with(B), gr.matched(OPEN_PAREN, CLOSE_PAREN), gr.nested,
              gr.even_as_after_last_b, gr.bs_before_as]  # fmt: skip
    for width in (0, 9):
        for check in checks[:3] if width == 0 else checks:
            out = check(torch.empty((4, width), dtype=torch.long, device=meta))
            assert out.device == meta and out.shape == (4,) and out.dtype == torch.bool


# -- formal_languages: the generators draw the reference's distributions --------------------------
def ref_dyck(n):
    """Exact distribution of the reference's generate_matched_parentheses_and_brackets(n): words
    (strings) → probability, following every random choice."""
    closer = {"(": ")", "[": "]"}
    out = {}

    def walk(word, stack, p):
        if len(word) >= n:
            out[word] = out.get(word, 0.0) + p
            return
        if not stack:
            options = ["(", "["]
        elif len(word) + len(stack) >= n:
            options = [closer[stack[-1]]]
        else:
            options = ["(", "[", closer[stack[-1]]]
        for ch in options:
            new = stack + [ch] if ch in "([" else stack[:-1]
            if not new:  # the reference stops once the stack is empty
                out[word + ch] = out.get(word + ch, 0.0) + p / len(options)
            else:
                walk(word + ch, new, p / len(options))

    walk("", [], 1.0)
    return out


def ref_cs_dyck(n):
    """Exact distribution of generate_not_nested_matched_parentheses_and_brackets(n)."""
    out = {}

    def walk(word, sp, sb, p):
        if len(word) >= n:
            out[word] = out.get(word, 0.0) + p
            return
        if sp + sb == 0:
            options = ["(", "["]
        elif sb == 0:
            options = [")"] if len(word) + sp >= n else ["[", "(", ")"]
        elif sp == 0:
            options = ["]"] if len(word) + sb >= n else ["(", "[", "]"]
        else:
            options = ["]", ")"] if len(word) + sb + sp >= n else ["(", "[", "]", ")"]
        for ch in options:
            dp = (ch == "(") - (ch == ")")
            db = (ch == "[") - (ch == "]")
            walk(word + ch, sp + dp, sb + db, p / len(options))

    walk("", 0, 0, 1.0)
    return out


def reference_distribution(language, max_length):
    """Word → probability of one sample of the reference's generator at this max_length."""
    L = max_length
    if language in ("aNbN", "aNbNcN"):
        letters = "ab" if language == "aNbN" else "abc"
        m = L // len(letters)
        return {"".join(ch * k for ch in letters): 1 / m for k in range(1, m + 1)}
    out = {}
    if language in ("baN", "bbaN"):
        for length in range(1, L + 1):
            pairs = (length - 1) // 2 + 1
            for k in range(pairs):
                p = 1 / L / pairs
                if language == "bbaN":
                    out["b" * (length - 2 * k) + "a" * (2 * k)] = p
                    continue
                slots = list(itertools.combinations(range(length - 1), 2 * k))
                for where in slots:
                    rest = ["a" if i in where else "b" for i in range(length - 1)]
                    out["b" + "".join(rest)] = p / len(slots)
        return out
    generate = ref_dyck if language == "dyck" else ref_cs_dyck
    for m in range(1, L // 2 + 1):
        for word, p in generate(2 * m).items():
            out[word] = out.get(word, 0.0) + p / (L // 2)
    return out


def as_string(row, brackets):
    names = {3: "(", 4: ")", 5: "[", 6: "]"} if brackets else {3: "a", 4: "b", 5: "c"}
    row = row.tolist() if torch.is_tensor(row) else row
    return "".join(names[t] for t in row if t in names)


@pytest.mark.parametrize(
    ("language", "max_length"),
    [("aNbN", 10), ("aNbNcN", 10), ("baN", 6), ("bbaN", 7), ("dyck", 6), ("cs_dyck", 6)],
)
def test_sampled_words_follow_the_references_generator(language, max_length):
    """The frequencies of 20 000 sampled words match the reference generator's exact
    probabilities (every random choice of data.py followed): a chi-square statistic within
    6 standard deviations of its mean (df = words − 1), and no word the reference cannot make."""
    world = FormalLanguageWorld(language, max_length=max_length)
    n = 20_000
    x = world.sample(n, generator=torch.Generator().manual_seed(7)).x
    expected = reference_distribution(language, max_length)
    assert math.isclose(sum(expected.values()), 1.0)
    counts = {}
    for row in x.tolist():
        word = as_string(row, world.rules.brackets)
        counts[word] = counts.get(word, 0) + 1
    assert set(counts) <= set(expected), set(counts) - set(expected)
    chi2 = sum((counts.get(w, 0) - n * p) ** 2 / (n * p) for w, p in expected.items())
    df = len(expected) - 1
    assert chi2 < df + 6 * math.sqrt(2 * df), (chi2, df)


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_sampling_uses_only_the_callers_generator(language):
    """The generator passed in is the only source of randomness: the same seed gives the same
    words, and torch's global generator is left untouched."""
    world = FormalLanguageWorld(language, max_length=9)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    first = world.sample(50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.get_rng_state(), state)
    again = world.sample(50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first.x, again.x) and torch.equal(first.z, again.z)


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("max_length", [7, 2])
def test_odd_and_shortest_lengths_give_words_of_the_language(language, max_length):
    """With an odd max_length L (words of even length stop at L − 1) and with the shortest L
    each language allows, every sample is a framed word of the language, ≤ L letters."""
    if language == "aNbNcN":
        max_length += 1  # its shortest word has 3 letters
    world = FormalLanguageWorld(language, max_length=max_length)
    batch = world.sample(300, generator=torch.Generator().manual_seed(1))
    assert batch.x.shape == (300, max_length + 2)
    assert world.rules.grammatical(batch.x).all()
    assert ((batch.x == EOS).sum(1) == 1).all()
    assert (batch.z >= 1).all() and (batch.z <= max_length).all()
    assert torch.equal(batch.z, world.content_lengths(batch.x))


def test_the_shortest_settings_are_accepted_and_shorter_ones_refused():
    """max_length may equal the language's shortest word (b for baN and bbaN; ab, () or [] for
    aNbN and the Dyck languages; abc for aNbNcN) and no less; one sequence per split is
    allowed."""
    shortest = {"aNbN": 2, "aNbNcN": 3, "baN": 1, "bbaN": 1, "dyck": 2, "cs_dyck": 2}
    for language, length in shortest.items():
        FormalLanguageWorld(language, max_length=length)
        with pytest.raises(ValueError, match="max_length"):
            FormalLanguageWorld(language, max_length=length - 1)
    world = FormalLanguageWorld("baN", n_train=1, n_validation=1, n_test=1, max_length=4)
    assert [len(world.split(s).x) for s in ("train", "validation", "test")] == [1, 1, 1]
    for words in (
        FormalLanguageWorld("baN", max_length=1),
        FormalLanguageWorld("bbaN", max_length=1),
    ):
        x = words.sample(5, generator=torch.Generator().manual_seed(0)).x
        assert x.tolist() == [[SOS, B, EOS]] * 5


def test_sample_sizes():
    """n = 0 gives an empty batch of the right width; a negative n is refused."""
    for language in LANGUAGES:
        world = FormalLanguageWorld(language, max_length=8)
        batch = world.sample(0, generator=torch.Generator().manual_seed(0))
        assert batch.x.shape == (0, 10) and batch.z.shape == (0,)
        with pytest.raises(ValueError, match="n must be"):
            world.sample(-1, generator=torch.Generator().manual_seed(0))


def test_vocabulary_is_the_references():
    """num_tokens of the reference's runner: 5 for the {a, b} languages, 6 for aNbNcN, 7 for the
    bracket languages (SOS, EOS, PAD and the letters)."""
    sizes = {language: FormalLanguageWorld(language).vocab_size for language in LANGUAGES}
    assert sizes == {"aNbN": 5, "aNbNcN": 6, "baN": 5, "bbaN": 5, "dyck": 7, "cs_dyck": 7}


def test_splits_are_independent_draws_and_enumerated_splits_carry_lengths():
    """The three splits of a random language are independent draws (equal sizes, different
    words); the enumerated splits carry each word's content length 2n (3n) in z."""
    world = FormalLanguageWorld("dyck", max_length=12, n_train=64, n_validation=64, n_test=64)
    train, validation, test = (world.split(s).x for s in ("train", "validation", "test"))
    assert not torch.equal(train, validation) and not torch.equal(validation, test)
    anbn = FormalLanguageWorld("aNbN", max_length=10).split("test")
    assert anbn.z.tolist() == [2, 4, 6, 8, 10]
    anbncn = FormalLanguageWorld("aNbNcN", max_length=10).split("train")
    assert anbncn.z.tolist() == [3, 6, 9]


def test_uniform_draws_reach_every_value():
    """One uniform draw from {0, …, high − 1}: every value reachable — for high far beyond
    float32's 2^24 steps as well, so odd and even values are equally likely."""
    from identifiable.worlds.formal_languages import _uniform_below

    g = torch.Generator().manual_seed(0)
    small = _uniform_below(torch.full((30_000,), 3), g)
    assert set(small.tolist()) == {0, 1, 2}
    assert abs((small == 2).float().mean().item() - 1 / 3) < 5 * math.sqrt(2 / 9 / 30_000)
    big = _uniform_below(torch.full((10_000,), 2**40), g)
    assert (big >= 0).all() and (big < 2**40).all()
    assert abs((big % 2).float().mean().item() - 0.5) < 5 * 0.005


# -- formal_languages: prompts --------------------------------------------------------------------
def test_prompts_of_every_length_are_split_by_the_rules():
    """For the enumerated languages the prompts of length m are all |alphabet|^m strings after
    SOS, split exactly by the language's in_distribution check — also for m = 1 and 2; the
    default length is the reference's 6; a prompt may be as long as max_length − 1."""
    world = FormalLanguageWorld("aNbN", max_length=8)
    for m in (1, 2, 3, 7):
        p = world.prompts(m)
        both = torch.cat([p.in_distribution, p.ood])
        assert both.shape == (2**m, m + 1) and (both[:, 0] == SOS).all()
        assert len(torch.unique(both, dim=0)) == 2**m
        assert world.rules.in_distribution(p.in_distribution).all()
        assert not world.rules.in_distribution(p.ood).any()
    assert {as_string(r, False) for r in world.prompts(1).in_distribution} == {"a"}
    assert {as_string(r, False) for r in world.prompts(2).in_distribution} == {"aa", "ab"}
    default = FormalLanguageWorld("aNbN").prompts()
    assert torch.equal(
        default.in_distribution, FormalLanguageWorld("aNbN").prompts(6).in_distribution
    )
    anbncn = FormalLanguageWorld("aNbNcN").prompts(2)
    assert {as_string(r, False) for r in anbncn.in_distribution} == {"aa", "ab"}
    assert len(anbncn.ood) == 9 - 2


def test_bbaN_prompts_of_short_lengths():
    """bbaN: ID prompts b^(m−k) a^k (k = 1…m−1), OOD a b^(m−1−k) a^k (k = 1…m−2): none of either
    kind at m = 1, one ID and no OOD at m = 2 — always (·, m + 1) token ids."""
    world = FormalLanguageWorld("bbaN")
    one, two = world.prompts(1), world.prompts(2)
    for tensor, shape in [(one.in_distribution, (0, 2)), (one.ood, (0, 2)),
                          (two.in_distribution, (1, 3)), (two.ood, (0, 3))]:  # fmt: skip
        assert tensor.shape == shape and tensor.dtype == torch.long
    assert two.in_distribution.tolist() == [[SOS, B, A]]
    assert {as_string(r, False) for r in world.prompts(3).ood} == {"aba"}


def test_bracket_prompts_are_every_single_block_dyck_word():
    """Dyck prompts SOS ( [ w and SOS ) [ w: w runs over every single-block nested word of length
    m — () and [] for m = 2; (()), ([]), [()], [[]] for m = 4; none for odd m — always
    (·, m + 3) token ids."""
    world = FormalLanguageWorld("dyck")
    for m, words in [(2, {"()", "[]"}), (4, {"(())", "([])", "[()]", "[[]]"}), (3, set()),
                     (1, set())]:  # fmt: skip
        p = world.prompts(m)
        assert p.in_distribution.shape == (len(words), m + 3) == p.ood.shape
        assert p.in_distribution.dtype == torch.long == p.ood.dtype
        assert {as_string(r[3:], True) for r in p.in_distribution} == words
        assert {as_string(r[3:], True) for r in p.ood} == words
    six = {as_string(r[3:], True) for r in world.prompts(6).in_distribution}
    expected = {w for w, _ in ref_dyck(6).items() if len(w) == 6}
    assert six == expected and len(six) == 16
