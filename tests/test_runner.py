import pytest

from identifiable.experiments.contrastive import Config
from identifiable.runner import execute
from identifiable.store import Store

TINY = Config(steps=20, eval_every=10, batch_size=32, eval_size=200, encoder_width=16)


def raising(error):
    def progress(done, total, **fields):
        raise error

    return progress


def test_ctrl_c_is_recorded_as_interrupted_and_reraised(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        execute("contrastive", TINY, store, progress=raising(KeyboardInterrupt()))
    (record,) = store.records()
    assert record.status == "interrupted" and "Ctrl-C" in record.error
    assert not store.is_done(record.key)


def test_failure_is_recorded_with_its_error_then_a_rerun_finishes(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError):
        execute("contrastive", TINY, store, progress=raising(RuntimeError("disk on fire")))
    (record,) = store.records()
    assert record.status == "failed" and "disk on fire" in record.error
    outcome = execute("contrastive", TINY, store)
    assert outcome.status == "done" and store.is_done(outcome.key)
    assert execute("contrastive", TINY, store).status == "skipped"
