"""Formal-language worlds: the reference's words, prompts and ID/OOD split; rules by hand."""

import pytest
import torch

from identifiable.worlds.formal_languages import FormalLanguageWorld
from identifiable.worlds.grammar_rules import EOS, LANGUAGES, PAD, SOS, nested, rules

LETTERS = {"a": 3, "b": 4, "c": 5, "(": 3, ")": 4, "[": 5, "]": 6}


def tokens(*words: str, sos: bool = True) -> torch.Tensor:
    """Words like "aabb" as a padded (n, T) batch with SOS (and nothing else)."""
    width = max(len(w) for w in words) + sos
    rows = []
    for w in words:
        row = ([SOS] if sos else []) + [LETTERS[ch] for ch in w]
        rows.append(row + [PAD] * (width - len(row)))
    return torch.tensor(rows)


def decode(row: torch.Tensor, brackets: bool = False) -> str:
    names = {3: "(", 4: ")", 5: "[", 6: "]"} if brackets else {3: "a", 4: "b", 5: "c"}
    return "".join(names.get(int(t), "") for t in row)


def test_anbn_has_64_prompts_of_length_6_four_in_distribution():
    prompts = FormalLanguageWorld("aNbN").prompts(6)
    assert prompts.in_distribution.shape == (4, 7) and prompts.ood.shape == (60, 7)
    assert (prompts.in_distribution[:, 0] == SOS).all() and (prompts.ood[:, 0] == SOS).all()
    ids = sorted(decode(p) for p in prompts.in_distribution)
    assert ids == ["aaaaaa", "aaaaab", "aaaabb", "aaabbb"]


@pytest.mark.parametrize(
    ("language", "n_id", "n_ood"),
    [("aNbNcN", 5, 724), ("baN", 32, 32), ("bbaN", 5, 4), ("dyck", 16, 16), ("cs_dyck", 16, 16)],
)
def test_prompt_counts_of_length_6(language, n_id, n_ood):
    prompts = FormalLanguageWorld(language).prompts(6)
    assert len(prompts.in_distribution) == n_id and len(prompts.ood) == n_ood
    assert len(torch.unique(prompts.ood, dim=0)) == n_ood  # each listed once


def test_anbncn_in_distribution_prompts_are_the_prefixes_of_anbncn():
    ids = {decode(p) for p in FormalLanguageWorld("aNbNcN").prompts(6).in_distribution}
    assert ids == {"aaaaaa", "aaaaab", "aaaabb", "aaabbb", "aabbcc"}


def test_bbaN_and_bracket_prompts_are_the_references_shapes():
    bbaN = FormalLanguageWorld("bbaN").prompts(6)
    assert {decode(p) for p in bbaN.in_distribution} == {
        "b" * (6 - k) + "a" * k for k in range(1, 6)
    }
    assert {decode(p) for p in bbaN.ood} == {"a" + "b" * (5 - k) + "a" * k for k in range(1, 5)}
    dyck = FormalLanguageWorld("dyck").prompts(6)
    assert dyck.in_distribution.shape == (16, 9)
    assert all(decode(p, True).startswith("([") for p in dyck.in_distribution)
    assert all(decode(p, True).startswith(")[") for p in dyck.ood)
    assert torch.equal(dyck.in_distribution[:, 3:], dyck.ood[:, 3:])  # the same words w
    assert nested(dyck.ood[:, 3:]).all()


@pytest.mark.parametrize(
    ("language", "good", "bad"),
    [
        ("aNbN", ["ab", "aaabbb"], ["ba", "aab", "abab", "bbaa"]),
        ("aNbNcN", ["abc", "aabbcc"], ["abcc", "acb", "aabcbc", "ab"]),
        ("baN", ["b", "baa", "babba", "bbb"], ["a", "aab", "ba", "abb"]),
        ("bbaN", ["b", "bbaa", "bbbbaa"], ["a", "aa", "bab", "abaa", "bba"]),
        ("dyck", ["()", "([])", "[()]()", "[]"], ["([)]", ")(", "(", "(]", "[[]"]),
        ("cs_dyck", ["()", "([)]", "[(])"], [")(", "(", "(]", "[[]", "]["]),
    ],
)
def test_grammatical_on_hand_examples(language, good, bad):
    check = rules(language).grammatical
    assert check(tokens(*good)).all()
    assert not check(tokens(*bad)).any()


def test_rule_edge_cases_follow_the_reference():
    anbn, bban, ban = rules("aNbN"), rules("bbaN"), rules("baN")
    # R1 / R2 separately: "ba" keeps #a = #b but breaks a's-before-b's
    assert anbn.rule_1(tokens("ba")).item() and not anbn.rule_2(tokens("ba")).item()
    # a's before b's holds when a letter is missing; b's before a's needs a b
    assert anbn.rule_2(tokens("bbb", "aaa", "")).all()
    assert not bban.rule_2(tokens("aa")).item() and bban.rule_2(tokens("bb")).item()
    # even number of a's after the last b
    assert bban.rule_1(tokens("abaa", "bb", "aa")).all() and not bban.rule_1(tokens("aba")).item()
    # "begins with b" reads the token after SOS, or the first token without SOS
    assert ban.rule_2(tokens("ba")).item() and not ban.rule_2(tokens("ab")).item()
    assert ban.rule_2(tokens("ba", sos=False)).item()
    # tokens a rule does not name are ignored: EOS and PAD after a word
    word = torch.tensor([[SOS, 3, 3, 4, 4, EOS, PAD, PAD]])
    assert anbn.grammatical(word).item()


def test_in_distribution_prompts_can_be_completed_and_ood_ones_cannot():
    anbn = rules("aNbN")
    assert anbn.in_distribution(tokens("aaab", "aaaa")).all()
    assert not anbn.in_distribution(tokens("abbb", "ba", "bbbb")).any()


def test_completion_starts_after_the_prompt_or_after_the_two_bracket_tokens():
    assert rules("aNbN").completion_start(7) == 7
    assert rules("dyck").completion_start(9) == 3


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_sampled_sequence_is_a_framed_word_of_the_language(language):
    world = FormalLanguageWorld(language, max_length=24)
    batch = world.sample(400, generator=torch.Generator().manual_seed(0))
    x = batch.x
    assert x.shape == (400, 26) and x.dtype == torch.long
    assert (x[:, 0] == SOS).all()
    assert ((x == EOS).sum(1) == 1).all()
    eos_at = (x == EOS).long().argmax(1)
    assert torch.equal(eos_at, batch.z + 1)
    after = torch.arange(26)[None] > eos_at[:, None]
    assert (x[after] == PAD).all()
    assert (batch.z >= 1).all() and (batch.z <= 24).all()
    assert world.rules.grammatical(x).all()
    assert int(x.max()) < world.vocab_size


def test_sampling_is_seeded_and_splits_are_fixed_by_the_world_seed():
    world = FormalLanguageWorld("baN", max_length=16, n_train=50, n_validation=40, n_test=30)
    a = world.sample(20, generator=torch.Generator().manual_seed(1)).x
    b = world.sample(20, generator=torch.Generator().manual_seed(1)).x
    assert torch.equal(a, b)
    assert [len(world.split(s).x) for s in ("train", "validation", "test")] == [50, 40, 30]
    assert not torch.equal(world.split("train").x[:30], world.split("test").x)
    same = FormalLanguageWorld("baN", max_length=16, n_train=50, n_validation=40, n_test=30)
    assert torch.equal(same.split("train").x, world.split("train").x)
    other = FormalLanguageWorld("baN", max_length=16, n_train=50, seed=1)
    assert not torch.equal(other.split("train").x, world.split("train").x)


def test_anbn_splits_are_every_word_once():
    world = FormalLanguageWorld("aNbN", max_length=10)
    words = world.split("train").x
    assert [decode(w) for w in words] == ["a" * n + "b" * n for n in range(1, 6)]
    assert torch.equal(world.split("validation").x, words)
    assert len(FormalLanguageWorld("aNbNcN", max_length=10).split("test").x) == 3


def test_dyck_words_are_single_blocks_and_cs_dyck_words_cross():
    dyck = FormalLanguageWorld("dyck", max_length=20).sample(
        2000, generator=torch.Generator().manual_seed(0)
    )
    opens = ((dyck.x == 3) | (dyck.x == 5)).long() - ((dyck.x == 4) | (dyck.x == 6)).long()
    depth = opens.cumsum(1)
    inside = (torch.arange(22)[None] >= 1) & (torch.arange(22)[None] < dyck.z[:, None])
    assert (depth[inside] > 0).all()  # the depth returns to 0 only at the word's end
    # length 2: a target of 2 (1 in 10) or a free close right after the first opener (1 in 3)
    assert (dyck.z == 2).float().mean().item() == pytest.approx(0.1 + 0.9 / 3, abs=0.03)
    cs = FormalLanguageWorld("cs_dyck", max_length=20).sample(
        2000, generator=torch.Generator().manual_seed(0)
    )
    assert (cs.z % 2 == 0).all()
    assert not nested(cs.x).all() and nested(cs.x).any()


def test_nested_agrees_with_a_stack_on_every_short_word():
    import itertools

    symbols = "()[]"
    words = ["".join(w) for n in range(0, 7) for w in itertools.product(symbols, repeat=n)]

    def stack_check(word):
        stack = []
        for ch in word:
            if ch in "([":
                stack.append(ch)
            elif not stack or stack.pop() != {")": "(", "]": "["}[ch]:
                return False
        return not stack

    got = nested(tokens(*words[1:])).tolist()
    assert got == [stack_check(w) for w in words[1:]]


def test_bad_settings_say_what_to_change():
    with pytest.raises(ValueError, match="unknown language 'anbn'.*aNbN"):
        FormalLanguageWorld("anbn")
    with pytest.raises(ValueError, match="max_length must be an int >= 3"):
        FormalLanguageWorld("aNbNcN", max_length=2)
    with pytest.raises(ValueError, match="n_train must be"):
        FormalLanguageWorld("baN", n_train=0)
    with pytest.raises(ValueError, match="prompt length must be an int >= 1"):
        FormalLanguageWorld("aNbN").prompts(0)
    with pytest.raises(ValueError, match="leaves no room"):
        FormalLanguageWorld("aNbN", max_length=8).prompts(8)
    with pytest.raises(ValueError, match="split must be one of"):
        FormalLanguageWorld("aNbN").split("ood")


def test_the_references_names_are_accepted():
    assert FormalLanguageWorld("parentheses_and_brackets").language == "dyck"
    assert FormalLanguageWorld("not_nested_parentheses_and_brackets").language == "cs_dyck"


def test_rules_on_empty_slices_follow_the_reference():
    """A completion can be empty (a prompt that fills the sequence): "a's before b's" holds,
    "b's before a's" needs a b, an empty count is even, and nothing crashes."""
    empty = torch.zeros((2, 0), dtype=torch.long)
    assert rules("aNbN").rule_2(empty).all() and rules("aNbNcN").rule_2(empty).all()
    assert not rules("bbaN").rule_2(empty).any() and rules("bbaN").rule_1(empty).all()
    assert rules("baN").rule_1(empty).all() and not rules("baN").rule_2(empty).any()


def test_prompts_leave_room_for_a_completion():
    assert FormalLanguageWorld("aNbN", max_length=8).prompts(7).ood.shape[1] == 8
    with pytest.raises(ValueError, match="use at most 7 letters"):
        FormalLanguageWorld("aNbN", max_length=8).prompts(8)
    # a bracket prompt "( [ w" needs two closers and EOS after it
    assert FormalLanguageWorld("dyck", max_length=10).prompts(6).ood.shape[1] == 9
    with pytest.raises(ValueError, match="use at most 3 letters"):
        FormalLanguageWorld("dyck", max_length=7).prompts(6)
