"""Per-step speed of ContrastiveLearner against a plain PyTorch loop of the same model and loss.

Both train the cl-ica reference encoder 10-100-500-500-500-500-100-10 (LeakyReLU 0.01, output
normalised onto the unit sphere) with dot-product InfoNCE (τ = 0.1) and Adam (lr 1e-4) on a fresh
batch of positive pairs from the sphere world (``make_world(Config())``: vMF κ = 10, 3-layer
mixing) every step. The plain loop is written here in the reference's structure (cl-ica
``main_mlp.py``): an ``nn.Sequential`` MLP, ``F.normalize``, the B×B similarity matrix and
``F.cross_entropy`` against the diagonal.

Everything runs in one process, interleaved step by step: the learner is fitted with
``eval_every=1`` and its progress callback runs one step of the plain loop (and of the
matmul-only reference, and one ``world.pairs`` call) after each of the learner's steps, so both
are timed under the same load (the machine is shared: compare ratios, not absolute seconds).
A repeat is one such fit, k steps after warm-up; each figure is the median over ≥ 5 repeats, and
plain/ours is the median over repeats of the ratio of their step-interleaved means. Printed per
batch size:

* s/step of the plain loop and of ContrastiveLearner, and plain/ours (parity means ≥ 0.95);
* ours with ``losses.info_nce``'s fused dot path disabled (the loss as autograd runs it, which is
  what the learner ran before): where the earlier 0.74× at batch 6144 came from;
* the sampling share of a step (``world.pairs`` alone: vMF sampling + the mixing MLP);
* achieved GFLOP/s of a training step, counting the encoder's forward + backward as
  3 × 2 × N × Σ in·out over its Linear layers (N = 2B rows: anchors and positives) plus the B×B×d
  similarity matmul × 3, against the GFLOP/s ``torch.matmul`` reaches on exactly those matrix
  products (same shapes, same threads) timed on their own.

Reference figures (cl-ica unmodified on a 2-core CPU like ours; ../shared/papers/
contrastive-cl-ica.md): ≈ 0.070 s/step at batch 1024 and ≈ 0.73 s/step at batch 6144.

    python benchmarks/contrastive_speed.py            # full (a few minutes on 2 cores)
    python benchmarks/contrastive_speed.py --quick    # smoke test (< 30 s on an idle machine)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

import identifiable.losses.contrastive
from identifiable.experiments.contrastive import Config, make_world
from identifiable.learners.contrastive import ContrastiveLearner

HIDDEN = (100, 500, 500, 500, 500, 100)
N_LATENTS = 10
TAU = 0.1
LR = 1e-4
REFERENCE_S_PER_STEP = {1024: 0.070, 6144: 0.73}


# --- the plain loop (cl-ica's structure) ---------------------------------------------------------


def plain_encoder() -> nn.Sequential:
    widths = (N_LATENTS, *HIDDEN, N_LATENTS)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.LeakyReLU(0.01))
    return nn.Sequential(*layers)


def plain_step(world, batch: int, seed: int) -> Callable[[], None]:
    """One training step of the plain loop per call (its own model, optimiser and data stream)."""
    torch.manual_seed(seed)
    encoder = plain_encoder()
    optimizer = torch.optim.Adam(encoder.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(seed + 1)
    labels = torch.arange(batch)

    def step() -> None:
        pairs = world.pairs(batch, generator=generator)
        h = F.normalize(encoder(torch.cat([pairs.x, pairs.x_pos])), dim=1)
        logits = h[:batch] @ h[batch:].T / TAU
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


# --- ours ---------------------------------------------------------------------------------------


@contextmanager
def fused_info_nce(enabled: bool):
    """Switch losses.info_nce's fused dot path off (enabled=False) to time the autograd loss."""
    original = identifiable.losses.contrastive._fused_dot_applies
    if not enabled:
        identifiable.losses.contrastive._fused_dot_applies = lambda *_: False
    try:
        yield
    finally:
        identifiable.losses.contrastive._fused_dot_applies = original


def side_by_side(
    world,
    batch: int,
    warmup: int,
    steps: int,
    seed: int,
    others: dict[str, Callable[[], None]],
    *,
    fused: bool = True,
) -> dict[str, float]:
    """Seconds per step of ContrastiveLearner and of each of ``others``, interleaved step by step.

    The learner is fitted with ``eval_every=1``, so its loop calls ``progress`` after every step;
    the callback runs one step of each of ``others`` (the plain loop, the matmul-only reference,
    ...). So every learner step is timed right next to a plain step, under the same load. A
    learner step is the wall-clock from the end of one callback to the start of the next: its
    whole loop body (sampling, forward, loss, backward, Adam, bookkeeping), nothing taken from
    its own report. Means over the ``steps`` steps after ``warmup``.
    """
    totals = {"ours": 0.0, **dict.fromkeys(others, 0.0)}
    state = {"last": 0.0}

    def progress(done: int, total: int, **_: float) -> None:
        now = time.perf_counter()
        timed = done > warmup
        if timed:
            totals["ours"] += now - state["last"]
        for name, step in others.items():
            start = time.perf_counter()
            step()
            if timed:
                totals[name] += time.perf_counter() - start
        state["last"] = time.perf_counter()

    learner = ContrastiveLearner(
        n_components=N_LATENTS,
        hidden=HIDDEN,
        similarity="dot",
        tau=TAU,
        batch_size=batch,
        lr=LR,
        steps=warmup + steps,
        eval_every=1,
        random_state=seed,
        device="cpu",
    )
    with fused_info_nce(fused):
        state["last"] = time.perf_counter()
        learner.fit(world, progress=progress)
    return {name: total / steps for name, total in totals.items()}


# --- FLOPs and the matmul-only reference -------------------------------------------------------


def linear_shapes() -> list[tuple[int, int]]:
    widths = (N_LATENTS, *HIDDEN, N_LATENTS)
    return list(zip(widths[:-1], widths[1:], strict=True))


def step_flops(batch: int) -> float:
    rows = 2 * batch  # anchors and positives go through the encoder together
    encoder = 3 * 2 * rows * sum(a * b for a, b in linear_shapes())
    similarity = 3 * 2 * batch * batch * N_LATENTS
    return float(encoder + similarity)


def matmul_products(batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The step's matrix products: per Linear the forward x·Wᵀ and the backward g·W and gᵀ·x; the
    similarity h·h̃ᵀ and its backward G·h̃ and Gᵀ·h."""
    rows = 2 * batch
    gen = torch.Generator().manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=gen)

    products = []
    for a, b in linear_shapes():
        x, w, g = rand(rows, a), rand(b, a), rand(rows, b)
        products += [(x, w.T), (g, w), (g.T, x)]
    h, h_pos, grad = rand(batch, N_LATENTS), rand(batch, N_LATENTS), rand(batch, batch)
    products += [(h, h_pos.T), (grad, h_pos), (grad.T, h)]
    return products


def matmul_step(batch: int) -> Callable[[], None]:
    products = matmul_products(batch)

    def step() -> None:
        for a, b in products:
            torch.matmul(a, b)

    return step


def sampling_step(world, batch: int) -> Callable[[], None]:
    generator = torch.Generator().manual_seed(123)
    return lambda: world.pairs(batch, generator=generator)


# --- driver ---------------------------------------------------------------------------------------


def measure(
    batch: int, warmup: int, steps: int, repeats: int, unfused: bool
) -> dict[str, list[float]]:
    """Per repeat: one fit interleaved with the plain loop, the matmul-only reference and the
    sampling alone; and (``unfused``) one more with losses.info_nce's fused path off, again
    interleaved with the plain loop (``plain_2``), so that ratio is measured side by side too."""
    world = make_world(Config())
    world.pairs(2, generator=torch.Generator().manual_seed(0))  # build (and cache) the mixing
    times: dict[str, list[float]] = {}
    for r in range(repeats):
        others = {
            "plain": plain_step(world, batch, seed=r),
            "matmul": matmul_step(batch),
            "sampling": sampling_step(world, batch),
        }
        for name, value in side_by_side(world, batch, warmup, steps, r, others).items():
            times.setdefault(name, []).append(value)
        if unfused:
            others = {"plain_2": plain_step(world, batch, seed=r)}
            result = side_by_side(world, batch, warmup, steps, r, others, fused=False)
            times.setdefault("ours_unfused", []).append(result["ours"])
            times.setdefault("plain_2", []).append(result["plain_2"])
    return times


def paired_ratio(times: dict[str, list[float]], plain: str, arm: str) -> float:
    """Median over repeats of plain/arm, each ratio from steps taken side by side."""
    return statistics.median(p / o for p, o in zip(times[plain], times[arm], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps: a smoke test (< 30 s)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1024, 6144])
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats (≥ 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--no-unfused",
        action="store_true",
        help="skip the arm with the fused InfoNCE off (--quick skips it too)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = args.repeats or (2 if args.quick else 5)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads "
        f"(interop {torch.get_num_interop_threads()}); encoder 10-"
        f"{'-'.join(map(str, HIDDEN))}-10, dot InfoNCE τ={TAU}, Adam lr {LR}; "
        f"median of {repeats} interleaved repeats"
    )
    rows = []
    for batch in args.batches:
        if args.quick:
            warmup, steps = 1, 1
        else:
            warmup, steps = (3, 10) if batch <= 2048 else (2, 3)
        unfused = not (args.no_unfused or args.quick)
        times = measure(batch, warmup, steps, repeats, unfused=unfused)
        med = {name: statistics.median(values) for name, values in times.items()}
        ratio = paired_ratio(times, "plain", "ours")
        flops = step_flops(batch)
        rows.append((batch, med, ratio, flops))
        print(f"\nbatch {batch} ({warmup} warm-up + {steps} timed steps per repeat)")
        for name in ("plain", "ours", "plain_2", "ours_unfused"):
            if name in times:
                spread = ", ".join(f"{v:.4f}" for v in times[name])
                print(f"  {name:<13} {med[name]:.4f} s/step   [{spread}]")
        print(
            f"  plain/ours    {ratio:.2f}   (parity: ≥ 0.95; median over repeats of the ratio of "
            f"step-interleaved means; ratio of the medians {med['plain'] / med['ours']:.2f})"
        )
        if "ours_unfused" in med:
            print(
                "  plain/ours with the fused InfoNCE off (the loss as autograd runs it): "
                f"{paired_ratio(times, 'plain_2', 'ours_unfused'):.2f}"
            )
        print(
            f"  sampling      {med['sampling']:.4f} s (world.pairs alone) = "
            f"{med['sampling'] / med['ours']:.1%} of our step"
        )
        matmul_rate = flops / med["matmul"] / 1e9
        ours_rate = flops / med["ours"] / 1e9
        print(
            f"  GFLOP/s       ours {ours_rate:.1f}, plain {flops / med['plain'] / 1e9:.1f}; "
            f"torch.matmul alone on the step's products {matmul_rate:.1f} "
            f"({flops / 1e9:.1f} GFLOP/step) -> ours at {ours_rate / matmul_rate:.2f} of it"
        )
    print(
        "\nsummary  batch  plain s/step  ours s/step  plain/ours  GFLOP/s ours  "
        "matmul GFLOP/s  fraction  threads  cl-ica s/step"
    )
    for batch, med, ratio, flops in rows:
        reference = REFERENCE_S_PER_STEP.get(batch)
        print(
            f"         {batch:>5}  {med['plain']:>12.4f}  {med['ours']:>11.4f}  "
            f"{ratio:>10.2f}  {flops / med['ours'] / 1e9:>12.1f}  "
            f"{flops / med['matmul'] / 1e9:>14.1f}  "
            f"{med['matmul'] / med['ours']:>8.2f}  {torch.get_num_threads():>7}  "
            f"{reference if reference else '-':>13}"
        )


if __name__ == "__main__":
    main()
