import contextlib

import pytest

from identifiable import experiments
from identifiable.claims import Claim, Expectation
from identifiable.config import build_config, config_to_dict
from identifiable.experiments.contrastive import Config
from identifiable.run import (
    claim_config,
    claim_key,
    execute,
    reproduce,
    run_experiment,
    stored_verdicts,
)
from identifiable.store import Store, run_key

TINY = Config(steps=20, eval_every=10, batch_size=32, eval_size=200, encoder_width=16)


def raising(error):
    def progress(done, total, **fields):
        raise error

    return progress


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(experiments, "_REGISTERED", {"toy": "toy_experiment"})


def toy_claim(name, expect=1.5, **overrides):
    return Claim(
        f"toy/{name}",
        "the toy echoes its value",
        "nobody, 2026",
        experiment="toy",
        overrides=overrides,
        expect=(Expectation("value", ">=", expect),),
    )


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


def test_run_experiment_is_pure_and_execute_records_the_same_numbers(tmp_path, toy):
    config = build_config(experiments.get("toy").Config, {"value": "3"}, seed=2)
    result = run_experiment("toy", config)
    assert result.metrics == {"value": 3.0, "seed_plus_value": 5.0}
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
    outcome = execute("toy", config, Store(tmp_path), tags={"why": "test"})
    assert outcome.metrics == result.metrics
    assert outcome.key == run_key("toy", config_to_dict(config))
    record = Store(tmp_path).get(outcome.key)
    assert record.tags == {"why": "test"}
    with pytest.raises(ValueError, match="unknown experiment"):
        execute("nope", config, Store(tmp_path))
    assert len(Store(tmp_path).records()) == 1  # nothing recorded for an unknown name


def test_claim_key_is_the_key_its_run_is_stored_under(tmp_path, toy):
    claim = toy_claim("two", value="2")
    assert claim_config(claim) == experiments.get("toy").Config(value=2.0)
    store = Store(tmp_path)
    assert stored_verdicts(store, [claim]) == []
    (verdict,) = reproduce([claim], store)
    assert verdict.passed and verdict.measured["value"] == 2.0
    assert store.is_done(claim_key(claim))
    assert stored_verdicts(store, [claim, toy_claim("three", value="3")]) == [verdict]


def test_every_claim_has_a_key_and_claims_share_a_run_only_with_the_same_config():
    seen = {}
    for claim in experiments.all_claims():
        resolved = (claim.experiment, config_to_dict(claim_config(claim)))
        assert seen.setdefault(claim_key(claim), resolved) == resolved, claim.name


def test_reproduce_goes_on_after_a_failure_and_shows_progress(tmp_path, toy):
    claims = [
        toy_claim("fails", mode="fail"),
        toy_claim("low", value="1"),
        toy_claim("ok", value="2"),
    ]
    shown, heard = [], []

    @contextlib.contextmanager
    def progress_for(claim):
        yield lambda done, total, **fields: shown.append((claim.name, fields))

    verdicts = reproduce(
        claims,
        Store(tmp_path),
        progress_for=progress_for,
        on_error=lambda claim, error: heard.append((claim.name, str(error))),
    )
    assert [v.passed for v in verdicts] == [False, False, True]
    assert verdicts[0].measured == {} and heard == [("toy/fails", "deliberate failure")]
    assert verdicts[1].measured["value"] == 1.0
    assert [name for name, _ in shown] == ["toy/low", "toy/ok"]
    assert Store(tmp_path).get(claim_key(claims[0])).status == "failed"
    # a finished claim is read back, not run again; progress_for may give no progress
    again = reproduce(claims[1:], Store(tmp_path), progress_for=lambda claim: None)
    assert [v.measured for v in again] == [v.measured for v in verdicts[1:]]


def test_reproduce_lets_ctrl_c_through_and_keeps_finished_claims(tmp_path, toy):
    claims = [toy_claim("first", value="2"), toy_claim("second", value="3")]

    @contextlib.contextmanager
    def progress_for(claim):
        yield raising(KeyboardInterrupt()) if claim.name == "toy/second" else None

    with pytest.raises(KeyboardInterrupt):
        reproduce(claims, Store(tmp_path), progress_for=lambda c: progress_for(c))
    store = Store(tmp_path)
    assert store.is_done(claim_key(claims[0]))
    assert store.get(claim_key(claims[1])).status == "interrupted"
