"""Training tokens per second of the tiny language models and completions per second of batched
greedy decoding, each against a plain PyTorch loop of the same model run side by side.

1. Training: ``LanguageModel`` (the rule-extrapolation experiment's sizes; Transformer and LSTM)
   on aNbN with max_length 64, vs a plain loop of the same network, AdamW and warm-up and the same
   masked cross-entropy on the full padded batch. Interleaved: the learner's progress callback
   (every 10 steps) runs 10 plain steps; the first block of each is dropped; plain/ours is the
   median over ≥ 5 repeats of the ratio of the interleaved means (≥ 0.95 is parity). Tokens/s
   counts batch × (L + 1) target positions per step for both.
2. Completion: every 6-letter aNbN prompt completed greedily by ``LanguageModel.complete``
   vs the reference's loop (one token per step for every row, always to the full length,
   recomputing the prefix), alternated, ≥ 5 repeats.
3. Loss-to-loss fit of the reference's table (brendel-group/llm-line ``latest_pm_hf.csv``, from
   ``../shared/data`` or ``--llm-line PATH``): ``fit_table`` without bootstrap vs a plain loop
   of the recipe's three ``curve_fit`` calls per group, alternated; and the wall time of
   ``identifiable fit loss-to-loss`` with its default 100 bootstrap resamples.

    python benchmarks/language_speed.py            # a few minutes on 2 cores
    python benchmarks/language_speed.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from identifiable.experiments.rule_extrapolation import Config, make_learner, make_world
from identifiable.worlds.grammar_rules import PAD

BLOCK = 10


def plain_steps(learner, x: torch.Tensor, validation: torch.Tensor):
    """A plain training loop of the same network, which like the learner computes the validation
    loss after each block and keeps a copy of the best weights; returns ``run(n_steps)``."""
    learner._validate()
    net = learner._build(int(x.max()) + 1, x.shape[1])
    optimizer = torch.optim.AdamW(net.parameters(), lr=learner.lr, weight_decay=0.01)
    warmup = max(learner.steps // 10, 1)
    state = {"step": 0, "best": math.inf}
    generator = torch.Generator().manual_seed(1)

    def run(n: int) -> None:
        net.train()
        for _ in range(n):
            state["step"] += 1
            step = state["step"]
            for group in optimizer.param_groups:
                group["lr"] = learner.lr * min(step / warmup, math.sqrt(warmup / step))
            batch = x[torch.randint(len(x), (learner.batch_size,), generator=generator)]
            logits = net(batch[:, :-1])
            loss = F.cross_entropy(logits.transpose(1, 2), batch[:, 1:], ignore_index=PAD)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            logits = net(validation[:, :-1])
            value = float(F.cross_entropy(logits.transpose(1, 2), validation[:, 1:],
                                          ignore_index=PAD))  # fmt: skip
        if value < state["best"]:
            state["best"], state["weights"] = value, copy.deepcopy(net.state_dict())

    return run


def training_repeat(architecture: str, blocks: int) -> tuple[float, float, int]:
    cfg = Config(device="cpu")
    world = make_world(cfg, "aNbN")
    learner = make_learner(cfg, architecture, seed=0)
    learner.steps, learner.eval_every = BLOCK * (blocks + 1), BLOCK
    plain = plain_steps(learner, world.split("train").x, world.split("validation").x)
    ours_times: list[float] = []
    plain_times: list[float] = []
    last = [time.perf_counter()]

    def progress(done: int, total: int, **_: float) -> None:
        first = done <= BLOCK
        if not first:
            ours_times.append(time.perf_counter() - last[0])
        start = time.perf_counter()
        plain(BLOCK)
        if not first:
            plain_times.append(time.perf_counter() - start)
        last[0] = time.perf_counter()

    learner.fit(world, progress=progress)
    tokens = learner.batch_size * (world.sequence_length - 1)
    return statistics.mean(plain_times) / BLOCK, statistics.mean(ours_times) / BLOCK, tokens


X, Y, BY = "FineWeb-Edu Validation Loss", "HellaSwag Loss", "Pretraining Data"


def plain_loss_to_loss(table: pd.DataFrame) -> dict:
    """The recipe as a plain loop: per group E_x, E_y from the compute-to-loss law (min loss on
    failure or without size/tokens), then (K, κ)."""
    from scipy.optimize import curve_fit

    def law(nd, e, a, b, alpha, beta):
        with np.errstate(all="ignore"):
            return e + ((a / nd[0]) ** (alpha / beta) + b / nd[1]) ** beta

    out = {}
    for group, rows in table.dropna(subset=[X, Y]).groupby(BY):
        x, y = rows[X].to_numpy(), rows[Y].to_numpy()
        nd = (rows["Size"].to_numpy(float), rows["Tokens"].to_numpy(float))
        es = []
        for loss, p0 in ((x, 0.1), (y, 0.0)):
            try:
                bounds = ([0, -np.inf, -np.inf, -np.inf, -np.inf], [loss.min()] + [np.inf] * 4)
                es.append(curve_fit(law, nd, loss, p0=(p0, 1, 1, 1, 1), bounds=bounds)[0][0])
            except (RuntimeError, ValueError):
                es.append(loss.min())
        e_x, e_y = es
        with np.errstate(all="ignore"):
            out[group] = curve_fit(
                lambda v, k, kappa, e_x=e_x, e_y=e_y: k * np.maximum(v - e_x, 1e-10) ** kappa + e_y,
                x, y, p0=(0.8, 1), bounds=([-np.inf, 0], [np.inf, np.inf]), maxfev=10_000,
            )[0]  # fmt: skip
    return out


def fit_benchmark(path: Path, repeats: int) -> None:
    import warnings

    from identifiable.analysis.loss_tables import fit_table, read_table

    warnings.filterwarnings("ignore")
    table = read_table(path, skip_rows=1)
    pairs = []
    for _ in range(repeats):
        start = time.perf_counter()
        plain_loss_to_loss(table)
        plain = time.perf_counter() - start
        start = time.perf_counter()
        fit_table(table, x=X, y=Y, by=BY, bootstrap=0)
        pairs.append((plain, time.perf_counter() - start))
    groups = table[BY].nunique()
    report(f"loss-to-loss fit of the llm-line table ({groups} groups, no bootstrap)", groups, pairs,
           "groups/s")  # fmt: skip
    start = time.perf_counter()
    command = [sys.executable, "-m", "identifiable", "fit", "loss-to-loss", str(path),
               "--skip-rows", "1", "--x", X, "--y", Y, "--by", BY, "--format", "csv"]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    print(f"  CLI with 100 bootstrap resamples: {time.perf_counter() - start:.1f} s wall")


def plain_completion(net, prompts: torch.Tensor, total: int) -> torch.Tensor:
    """The reference's decoding: argmax appended for every row, always to ``total`` tokens."""
    out = prompts
    with torch.no_grad():
        for _ in range(total - prompts.shape[1]):
            out = torch.cat([out, net(out)[:, -1].argmax(-1, keepdim=True)], 1)
    return out


def completion_repeat(learner, prompts) -> tuple[float, float]:
    start = time.perf_counter()
    learner.complete(prompts)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    plain_completion(learner.encoder_, prompts, learner.max_length_)
    return time.perf_counter() - start, ours


def report(title: str, n: float, pairs: list[tuple[float, float]], unit: str) -> None:
    plain = statistics.median(p for p, _ in pairs)
    ours = statistics.median(o for _, o in pairs)
    ratio = statistics.median(p / o for p, o in pairs)
    print(title)
    print(f"  plain        {n / plain:10.1f} {unit}")
    print(f"  ours         {n / ours:10.1f} {unit}")
    print(f"  plain/ours   {ratio:.2f}   (parity: ≥ 0.95)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test (few, short repeats)")
    default = Path(__file__).resolve().parents[2] / "shared/data/llm_line/latest_pm_hf.csv"
    parser.add_argument("--llm-line", type=Path, default=default, help="the llm-line CSV table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats, blocks = (2, 2) if args.quick else (5, 5)
    for architecture in ("transformer", "lstm"):
        pairs, tokens = [], 0
        for _ in range(repeats):
            plain, ours, tokens = training_repeat(architecture, blocks)
            pairs.append((plain, ours))
        report(f"training, {architecture} (aNbN, L = {Config.max_length}, batch 128)", tokens,
               pairs, "tokens/s")  # fmt: skip
    cfg = Config(device="cpu")
    world = make_world(cfg, "aNbN")
    prompts = world.prompts(6)
    every = torch.cat([prompts.in_distribution, prompts.ood])
    for architecture in ("transformer", "lstm"):
        learner = make_learner(cfg, architecture, seed=0)
        learner.steps, learner.eval_every = 200 if not args.quick else 20, 100
        learner.fit(world)
        pairs = [completion_repeat(learner, every) for _ in range(repeats)]
        report(f"greedy completion, {architecture}, {len(every)} prompts", len(every), pairs,
               "completions/s")  # fmt: skip
    if args.llm_line.is_file():
        fit_benchmark(args.llm_line, repeats)
    else:
        print(f"loss-to-loss fit: skipped, no table at {args.llm_line} (--llm-line PATH)")


if __name__ == "__main__":
    main()
