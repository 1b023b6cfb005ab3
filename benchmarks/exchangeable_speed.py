"""Speed of the exchangeable-causal experiment's structure tests: the Causal-de-Finetti test
against the baselines it is compared with, per repetition (one data set), on the same draws.

1. Structure tests: for E = 100 / 300 / 500 environments (``--quick``: 100), each repeat draws
   one data set from ``BivariateExchangeableWorld`` (variability "both", 2 draws per
   environment, a seeded ``torch.Generator``) and times on it, in an order rotated every repeat
   (interleaved): the CdF test (``CausalDeFinetti().fit``: three KCI tests), DirectLiNGAM
   (skipped with a note when the ``lingam`` extra is missing), FCI, GES and the random guess
   (the last four on the pooled draws, as the experiment runs them). One untimed warm-up round
   first. Prints the median milliseconds per repetition over the repeats (≥ 5) and the median
   of the per-draw ratio baseline / CdF (< 1: the baseline is faster).
2. TCL: steps/s of :class:`~identifiable.learners.tcl.TimeContrastive` against a plain PyTorch
   loop of the same model and step (≥ 0.95 is parity), interleaved blocks of 1 000 steps.

    OMP_NUM_THREADS=1 python benchmarks/exchangeable_speed.py            # ~15 s on 1 core
    OMP_NUM_THREADS=1 python benchmarks/exchangeable_speed.py --quick    # smoke test (seconds)

Measured (2 cores, idle but for this run, Thu Nov 26 08:21 UTC 2026; full run; lingam 1.13
installed by ``make install``):

    structure tests: ms per repetition (median of 21 interleaved repeats), and
    the median per-draw ratio method / CdF (variability both, 2 draws per environment)
      method           E = 100   / CdF   E = 300   / CdF   E = 500   / CdF
      cdf                12.02  1.0000     72.67  1.0000    268.62  1.0000
      direct_lingam       5.63  0.4733      3.79  0.0538      4.79  0.0183
      fci                 4.15  0.3419      0.94  0.0130      1.06  0.0039
      ges                 1.10  0.0912      0.77  0.0105      1.01  0.0035
      random              0.15  0.0121      0.08  0.0011      0.10  0.0003

    TCL training, n = 5, 32 segments, MLP 20-20, batch 512 (median of 9 interleaved blocks of
    1000 steps, order alternating; idle, after the per-batch accuracy was dropped)
      plain loop          1190.8 steps/s
      TimeContrastive     1139.9 steps/s   ours / plain 0.957
    (a second run: 1165.8 / 1127.0 = 0.967)

TCL is at parity (0.957 and 0.967 in two idle runs; ≥ 0.95 counts as parity). Before, the
Classifier loop recorded the training accuracy of every batch (an argmax over 512 × 32 logits,
≈ 30 µs of a ≈ 1 ms step) and TCL ran at 0.91–0.94; TimeContrastive no longer does (the
experiment's monitor reports held-out segment accuracy instead).

CdF's time grows a little faster than E² (KCI's E × E kernel matrices: ×9.7 from 100 to 300,
×3.5 from 300 to 500); FCI and GES on two pooled variables are a few tests or score steps
(milliseconds at any E), so the experiment's time is CdF's.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable

import torch

from identifiable.causal.causal_de_finetti import CausalDeFinetti
from identifiable.causal.structure_baselines import direct_lingam, fci, ges, random_guess
from identifiable.worlds.exchangeable import BivariateExchangeableWorld, ExchangeableSample

Method = Callable[[ExchangeableSample], object]


def methods() -> dict[str, Method]:
    """The experiment's methods, each on one data set (``random`` with its own generator)."""
    guesses = torch.Generator().manual_seed(1)
    found: dict[str, Method] = {"cdf": lambda data: CausalDeFinetti().fit(data.x, data.y)}
    if importlib.util.find_spec("lingam") is not None:
        found["direct_lingam"] = lambda data: direct_lingam(data.pooled())
    else:
        print("direct_lingam: skipped, lingam is missing (pip install 'identifiable[lingam]')")
    found["fci"] = lambda data: fci(data.pooled())
    found["ges"] = lambda data: ges(data.pooled())
    found["random"] = lambda data: random_guess(data.pooled(), generator=guesses)
    return found


def structure_speed(n_env: int, repeats: int, tests: dict[str, Method]) -> dict[str, list[float]]:
    """Seconds per method, one list entry per repeat, all methods on the repeat's draw."""
    world = BivariateExchangeableWorld(n_environments=n_env, variability="both")
    generator = torch.Generator().manual_seed(n_env)
    names = list(tests)
    warm = world.sample(generator=torch.Generator().manual_seed(0))
    for name in names:  # imports, caches: not timed
        tests[name](warm)
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        data = world.sample(generator=generator)
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            tests[name](data)
            times[name].append(time.perf_counter() - start)
    return times


def structure_table(envs: tuple[int, ...], repeats: int) -> None:
    tests = methods()
    results = {n_env: structure_speed(n_env, repeats, tests) for n_env in envs}
    print(f"\nstructure tests: ms per repetition (median of {repeats} interleaved repeats), and")
    print("the median per-draw ratio method / CdF (variability both, 2 draws per environment)")
    header = f"  {'method':<14}" + "".join(f"{f'E = {e}':>10}{'/ CdF':>8}" for e in envs)
    print(header)
    for name in tests:
        row = f"  {name:<14}"
        for n_env in envs:
            times = results[n_env]
            pairs = zip(times[name], times["cdf"], strict=True)  # paired by draw
            ratio = statistics.median(ours / cdf for ours, cdf in pairs)
            row += f"{1000 * statistics.median(times[name]):10.2f}{ratio:8.4f}"
        print(row)


# -- TCL ------------------------------------------------------------------------------------------
def _tcl_world():
    from identifiable.worlds.segments import SegmentWorld

    return SegmentWorld()  # the experiment's default: n = 5, 32 segments, 3-layer mixing


def _plain_tcl(world, steps: int, batch: int) -> None:
    """The same model and step as TimeContrastive, written out: MLP 5-20-20-5, |·|, MLR head
    with bias, cross-entropy on the segment label, Adam 1e-3, a fresh draw per step."""
    from torch import nn

    generator = torch.Generator().manual_seed(0)
    f = nn.Sequential(nn.Linear(5, 20), nn.LeakyReLU(0.01), nn.Linear(20, 20), nn.LeakyReLU(0.01),
                      nn.Linear(20, 5))  # fmt: skip
    head = nn.Linear(5, world.n_segments)
    optimizer = torch.optim.Adam([*f.parameters(), *head.parameters()], lr=1e-3)
    for _ in range(steps):
        batch_ = world.sample(batch, generator=generator)
        loss = nn.functional.cross_entropy(head(f(batch_.x).abs()), batch_.label)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def _ours_tcl(world, steps: int, batch: int) -> None:
    from identifiable.learners.tcl import TimeContrastive

    TimeContrastive(steps=steps, batch_size=batch, eval_every=steps, device="cpu").fit(world)


def tcl_speed(quick: bool = False) -> None:
    """Section 2: TCL training steps/s, TimeContrastive against a plain PyTorch loop of the same
    model, interleaved blocks (the learner's block includes its setup and one evaluation)."""
    world = _tcl_world()
    rounds, steps = (3, 100) if quick else (9, 1000)
    for run in (_plain_tcl, _ours_tcl):  # warm-up (mixing build, allocator)
        run(world, 20, 512)
    rates: dict[str, list[float]] = {"plain": [], "ours": []}
    order = [("plain", _plain_tcl), ("ours", _ours_tcl)]
    for round_ in range(rounds):  # alternate who goes first: drifts in clock speed hit both alike
        for name, run in order if round_ % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            run(world, steps, 512)
            rates[name].append(steps / (time.perf_counter() - start))
    plain, ours = (statistics.median(rates[k]) for k in ("plain", "ours"))
    print(f"\nTCL training, n = 5, 32 segments, MLP 20-20, batch 512 (median of {rounds} "
          f"interleaved blocks of {steps} steps)")  # fmt: skip
    print(f"  plain loop        {plain:8.1f} steps/s")
    print(f"  TimeContrastive   {ours:8.1f} steps/s   ours / plain {ours / plain:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test (E = 100, 5 repeats)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    envs, repeats = ((100,), 5) if args.quick else ((100, 300, 500), 21)
    structure_table(envs, repeats)
    tcl_speed(args.quick)
    print(f"\ntotal {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
