import doctest

import identifiable.progress as progress_module
from identifiable.progress import no_progress, subspan


def test_subspan_reports_its_part_of_a_longer_job():
    shown = []
    second = subspan(lambda done, total, **fields: shown.append((done, total, fields)), 300, 600)
    second(150, 300, loss=1.0)
    assert shown == [(450, 600, {"loss": 1.0})]
    assert no_progress(1, 2, loss=3.0) is None


def test_docstring_examples_run():
    assert doctest.testmod(progress_module).failed == 0
