"""The rendition keyword prefilter: the finer points tests/analysis/test_domains.py leaves open
(found by mutation testing): one keyword is enough, keywords given as a one-pass iterator, and
the result for no captions."""

from __future__ import annotations

from identifiable.analysis.domains import RENDITION_KEYWORDS, rendition_captions


def test_one_keyword_anywhere_is_enough_and_case_does_not_matter():
    """Any keyword, as a substring of the lower-cased caption (only one of many keywords needs
    to occur); an upper-case keyword in the caption matches too."""
    flags = rendition_captions(["an ORIGAMI crane", "tattoo", "a photo of a crane", ""])
    assert flags.tolist() == [True, True, False, False]


def test_keywords_may_be_a_generator():
    """Keywords given as a one-pass iterator are used for every caption, not only the first."""
    captions = ["a sketch", "a painting", "a photo"]
    flags = rendition_captions(captions, keywords=(w for w in ("sketch", "paint")))
    assert flags.tolist() == [True, True, False]


def test_no_captions_give_an_empty_boolean_array():
    """No captions: a length-0 boolean array (usable as a mask), not a float array."""
    flags = rendition_captions([])
    assert flags.shape == (0,) and flags.dtype == bool


def test_every_reference_keyword_matches_itself():
    """Each keyword, embedded in a caption, is found (' art' with its leading space)."""
    captions = [
        f"a{word} b" if word.startswith(" ") else f"a {word} b" for word in RENDITION_KEYWORDS
    ]
    assert rendition_captions(captions).all()
