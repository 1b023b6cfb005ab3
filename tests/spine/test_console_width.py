"""At 80 columns the numbers are whole: tables fold text, never cut a number; the progress bar
keeps step, ETA and the live metrics readable."""

import io

from rich.cells import cell_len
from rich.console import Console

from identifiable._console import metrics_table, progress_bar, runs_table, verdict_table


def render(renderable, width=80) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_verdict_table_keeps_every_measured_number_whole():
    row = {
        "claim": "aninfonce/linspace-identifies (a long claim name that has to fold)",
        "expected": "linear_r2 ≥ 0.95; mcc ≥ 0.75; lambda_rank_corr ≥ 0.6",
        "measured": "linear_r2=0.9750; mcc=0.8330; lambda_rank_corr=0.9879",
        "paper": "linear R² 0.997, MCC 0.989, Λ̂ a permutation of 5 to 25 (reference logs, 300k)",
        "verdict": "PASS",
    }
    text = render(verdict_table([row]))
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    for number in (
        "linear_r2 ≥ 0.95 → 0.9750",
        "mcc ≥ 0.75 → 0.8330",
        "lambda_rank_corr ≥ 0.6 → 0.9879",
        "PASS",
    ):
        assert number in text
    assert "…" not in text


def test_metrics_and_runs_tables_fit_80_columns():
    metrics = {"untrained_linear_r2_rotation": 0.123456, "steps_per_second": 65.1269}
    text = render(metrics_table("contrastive · key 3a94d8ac006a1d5b", metrics))
    assert "0.1235" in text and "65.1269" in text and "…" not in text
    rows = [
        {
            "key": "3a94d8ac006a1d5b",
            "experiment": "causal-plr",
            "status": "done",
            "wall_seconds": 10.7,
            "label": "estimators=['ica'], n_samples=[500, 1000, 2000, 4000, 8000], n_seeds=40",
            "headline": {"ica_slope_median": -0.6334, "ica_rel_error_median": 0.0045},
        }
    ]
    text = render(runs_table("runs", rows))
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert "ica_slope_median=-0.6334" in text and "ica_rel_error_median=0.0045" in text


def test_progress_bar_keeps_step_metrics_and_eta_at_80_columns():
    console = Console(file=io.StringIO(), width=80, force_terminal=False, color_system=None)
    with progress_bar("contrastive/sphere-orthogonal", console) as update:
        update(1000, 10000, loss=3.8728, linear_r2=0.9889, mcc=0.5899)
        text = render(update.bar.get_renderable())
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    for piece in ("1000/10000", "ETA", "loss=3.8728", "linear_r2=0.9889", "mcc=0.5899"):
        assert piece in text, text
