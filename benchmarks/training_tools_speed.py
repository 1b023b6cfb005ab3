"""Speed of issue 18's training tools, each side by side with a plain implementation in the same
process (median of ≥ 5 interleaved repeats; a ratio ≥ 0.95 counts as parity).

1. X-Sample loss: one forward + backward step of the loss at batch 1024 (d = 128, normalised
   representations, a 100-class graph gathered to the batch, τ = τ_s = 0.1), for
   ``x_sample_loss(graph_targets(...))`` against the plain expression
   ``-(softmax(G/τ_s) * log(softmax(hh̃ᵀ/τ))).sum(1).mean()`` and against InfoNCE
   (:func:`~identifiable.losses.info_nce`, the one-positive special case) on the same tensors.

    OMP_NUM_THREADS=1 python benchmarks/training_tools_speed.py            # ~20 s on 1 core
    OMP_NUM_THREADS=1 python benchmarks/training_tools_speed.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from identifiable.losses import graph_targets, info_nce, x_sample_loss


def _time(step: Callable[[], None], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        step()
    return (time.perf_counter() - start) / inner


def x_sample_speed(quick: bool) -> None:
    batch, dim, classes = (256, 64, 20) if quick else (1024, 128, 100)
    repeats, inner = (3, 3) if quick else (9, 10)
    g = torch.Generator().manual_seed(0)
    h0 = torch.nn.functional.normalize(torch.randn(batch, dim, generator=g), dim=1)
    h1 = torch.nn.functional.normalize(torch.randn(batch, dim, generator=g), dim=1)
    labels = torch.randint(0, classes, (batch,), generator=g)
    class_graph = torch.rand(classes, classes, generator=g)
    class_graph = (class_graph + class_graph.T) / 2
    class_graph.fill_diagonal_(1.0)

    def ours() -> None:
        h = h0.clone().requires_grad_(True)
        targets = graph_targets(class_graph[labels][:, labels], 0.1)
        x_sample_loss(h, h1, targets, 0.1).backward()

    def plain() -> None:
        h = h0.clone().requires_grad_(True)
        targets = torch.softmax(class_graph[labels][:, labels] / 0.1, dim=1)
        p = torch.softmax(h @ h1.T / 0.1, dim=1)
        (-(targets * torch.log(p)).sum(1).mean()).backward()

    def infonce() -> None:
        h = h0.clone().requires_grad_(True)
        info_nce(h, h1, 0.1).backward()

    # the same number, to float precision
    h = h0.clone()
    a = x_sample_loss(h, h1, graph_targets(class_graph[labels][:, labels], 0.1), 0.1)
    b = -(torch.softmax(class_graph[labels][:, labels] / 0.1, 1)
          * torch.log(torch.softmax(h @ h1.T / 0.1, 1))).sum(1).mean()  # fmt: skip
    steps = {"x_sample_loss": ours, "plain expression": plain, "info_nce": infonce}
    for step in steps.values():
        step()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in steps}
    for repeat in range(repeats):
        order = list(steps.items())
        for name, step in order[repeat % 3 :] + order[: repeat % 3]:
            times[name].append(_time(step, inner))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nX-Sample loss, forward + backward, batch {batch}, d = {dim}, {classes}-class graph "
          f"(median of {repeats} interleaved repeats × {inner} steps)")  # fmt: skip
    for name, seconds in median.items():
        print(f"  {name:<18} {seconds * 1e3:8.2f} ms")
    print(f"  plain / ours {median['plain expression'] / median['x_sample_loss']:.2f} "
          f"(≥ 0.95 is parity); InfoNCE / ours {median['info_nce'] / median['x_sample_loss']:.2f}; "
          f"losses agree to {abs(float(a) - float(b)):.1e}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    args = parser.parse_args()
    start = time.perf_counter()
    x_sample_speed(args.quick)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
