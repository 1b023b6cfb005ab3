"""The reference's caption keyword prefilter for renditions."""

from __future__ import annotations

import pytest

from identifiable.analysis.domains import RENDITION_KEYWORDS, rendition_captions


def test_keywords_match_as_lower_cased_substrings_with_the_reference_quirks():
    captions = [
        "A Sketch of a dog",  # sketch
        "party at the cart",  # ' art' needs its leading space: no match
        "modern art museum",  # ' art'
        "Drawing of a cat",  # 'draw' inside 'drawing'
        "a golden retriever on grass",
        "Toyota car",  # 'toy' inside 'toyota': the reference's substring rule matches it
    ]
    assert rendition_captions(captions).tolist() == [True, False, True, True, False, True]
    assert len(RENDITION_KEYWORDS) == 44 and " art" in RENDITION_KEYWORDS


def test_custom_keywords_and_bad_input():
    assert rendition_captions(["a Photo"], keywords=("photo",)).tolist() == [True]
    with pytest.raises(ValueError, match="captions must be strings"):
        rendition_captions(["ok", 3])
