"""Speed of issue 18's training tools, each side by side with a plain implementation in the same
process (median of ≥ 5 interleaved repeats; a ratio ≥ 0.95 counts as parity).

1. X-Sample loss: one forward + backward step of the loss at batch 1024 (d = 128, normalised
   representations, a 100-class graph gathered to the batch, τ = τ_s = 0.1), for
   ``x_sample_loss(graph_targets(...))`` against the plain expression
   ``-(softmax(G/τ_s) * log(softmax(hh̃ᵀ/τ))).sum(1).mean()`` and against InfoNCE
   (:func:`~identifiable.losses.info_nce`, the one-positive special case) on the same tensors.

2. LoRA / ALLoRA fine-tuning steps/s against full fine-tuning of the same ReLU MLP
   (64 → hidden → 10, batch 32, AdamW; rank 4; ALLoRA with the update placement and with the
   paper's gradient rule), :func:`identifiable.experiments.allora.step_rate`, interleaved; at the
   experiment's width (128, 128) and at (1024, 1024), where the frozen weights dominate.
3. LES score evaluations/s for a sequence-VAE decoder (one-hot MLP VAE, LeakyReLU decoder z →
   logits (T, V)): :func:`~identifiable.metrics.latent_exploration.les_score` (exact Jacobian by
   ``torch.func``, blockwise J, float64 singular values) against ``les_score_plain`` (the
   official code's way: finite differences, the dense block-diagonal S, float32 SVD of JᵀJ), at
   the experiment's size (T = 14, V = 7, d = 8) and a SMILES-like size (T = 40, V = 35, d = 16).

    OMP_NUM_THREADS=1 python benchmarks/training_tools_speed.py            # ~1 min on 1 core
    OMP_NUM_THREADS=1 python benchmarks/training_tools_speed.py --quick    # smoke test

Measured (2 cores shared with two mutation-testing jobs, load 3–4, Thu Nov 26 2026):

    X-Sample loss, batch 1024, d = 128, 100-class graph: plain / ours 1.07, 1.14, 1.31 (three
      runs; ours 19.5 ms, plain 25.5, InfoNCE 13.7 in the third), InfoNCE / ours 0.70–0.82
    fine-tuning steps/s, AdamW, rank 4:
      hidden (128, 128):   full 1066, lora 737 (0.69×), allora update 616 (0.58×), gradient 680
      hidden (1024, 1024): full 36, lora 132 (3.69×), allora update 134 (3.74×), gradient 135
    LES evaluations/s: T 14, V 7, d 8: ours 14480, plain 17344 (0.83×);
                       T 40, V 35, d 16: ours 906, plain 167 (5.42×); median |difference| 3–4e-3
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


def adapter_speed(quick: bool) -> None:
    from identifiable.experiments.allora import step_rate

    widths = [(128, 128)] if quick else [(128, 128), (1024, 1024)]
    repeats, steps = (3, 50) if quick else (5, 200)
    arms = {
        "full": dict(method="full"),
        "lora": dict(method="lora"),
        "allora (update)": dict(method="allora", placement="update"),
        "allora (gradient)": dict(method="allora", placement="gradient"),
    }
    print(f"\nfine-tuning steps/s, AdamW, batch 32, rank 4 (median of {repeats} interleaved "
          f"repeats × {steps} steps)")  # fmt: skip
    for hidden in widths:
        rates: dict[str, list[float]] = {name: [] for name in arms}
        for repeat in range(repeats):
            order = list(arms.items())
            for name, kwargs in order[repeat % 4 :] + order[: repeat % 4]:
                rates[name].append(step_rate(steps=steps, hidden=hidden, **kwargs))
        full = statistics.median(rates["full"])
        medians = {name: statistics.median(v) for name, v in rates.items()}
        line = ", ".join(f"{name} {v:7.0f}/s ({v / full:.2f}×)" for name, v in medians.items())
        print(f"  hidden {hidden}: {line}")


def les_speed(quick: bool) -> None:
    from identifiable.metrics.latent_exploration import les_score, les_score_plain
    from identifiable.models.sequence_vae import SequenceVAE

    sizes = [(14, 7, 8, 256)] if quick else [(14, 7, 8, 256), (40, 35, 16, 128)]
    repeats = 3 if quick else 5
    print(f"\nLES evaluations/s (median of {repeats} interleaved repeats)")
    for length, vocab, d, n in sizes:
        model = SequenceVAE(length, vocab, d, generator=torch.Generator().manual_seed(0))
        decoder = model.decoder.eval()
        z = torch.randn(n, d, generator=torch.Generator().manual_seed(1))
        functions = {"les_score": les_score, "plain": les_score_plain}
        for function in functions.values():
            function(decoder, z[:8])  # warm-up
        rates: dict[str, list[float]] = {name: [] for name in functions}
        for repeat in range(repeats):
            for name, function in list(functions.items())[:: 1 if repeat % 2 == 0 else -1]:
                rates[name].append(n / _time(lambda f=function, d=decoder, z=z: f(d, z), 1))
        ours, plain = (statistics.median(rates[k]) for k in ("les_score", "plain"))
        gap = float((les_score(decoder, z) - les_score_plain(decoder, z)).abs().median())
        print(f"  T = {length}, V = {vocab}, d = {d}: ours {ours:8.0f}/s   plain {plain:8.0f}/s"
              f"   ours / plain {ours / plain:.2f}   median |difference| {gap:.1e}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    args = parser.parse_args()
    start = time.perf_counter()
    x_sample_speed(args.quick)
    adapter_speed(args.quick)
    les_speed(args.quick)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
