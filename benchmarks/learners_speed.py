"""Steps/s of the AnInfoNCE learner vs plain InfoNCE, and of the cross-entropy learners.

1. AnInfoNCE (learned diagonal Λ̂) against plain dot-product InfoNCE, same encoder (3×256),
   same world (anisotropic sphere, n = 10, linspace Λ), batch 512, same machine, interleaved
   rounds; the extra Λ̂ must cost < 10 % of the steps/s.
2. The cross-entropy learners on the cluster world (n = 5, C = 100, κ = 10, batch 1024):
   supervised (C = 100 classes) and DIET at N = 1000 and N = 10 240 indices (the reference's N).

Every figure is the median over rounds of a timed block of steps (after warm-up), each step a full
``world`` sample + forward + backward + Adam update, exactly the learners' loops.

    OMP_NUM_THREADS=1 python benchmarks/learners_speed.py           # ≈ 2 min on 2 cores
    OMP_NUM_THREADS=1 python benchmarks/learners_speed.py --quick   # smoke test
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from identifiable.losses import an_info_nce, info_nce
from identifiable.models.mlp import MLPEncoder
from identifiable.worlds.clusters import ClusterWorld
from identifiable.worlds.latents import AnisotropicSphereSpace
from identifiable.worlds.mixing import LeakyMLPMixing
from identifiable.worlds.world import LatentWorld


def contrastive_step(kind: str, batch: int):
    """One training step of the contrastive learner's loop, as a closure."""
    world = LatentWorld(AnisotropicSphereSpace.preset("linspace", 10), LeakyMLPMixing(n_layers=3))
    generator = torch.Generator().manual_seed(0)
    encoder = MLPEncoder(
        10, 10, (256, 256, 256), normalize=True, generator=torch.Generator().manual_seed(0)
    )
    groups: list[dict] = [{"params": list(encoder.parameters())}]
    raw = torch.zeros(10, requires_grad=True)
    if kind == "aninfonce":
        groups.append({"params": [raw], "lr": 5e-2})
    optimizer = torch.optim.Adam(groups, lr=1e-3)

    def step() -> None:
        pairs = world.pairs(batch, generator=generator)
        h = encoder(torch.cat([pairs.x, pairs.x_pos]))
        if kind == "aninfonce":
            loss = an_info_nce(h[:batch], h[batch:], nn.functional.softplus(raw))
        else:
            loss = info_nce(h[:batch], h[batch:], 0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def classifier_step(n_classes_from: str, n_indices: int, batch: int):
    world = ClusterWorld(n_latents=5, n_clusters=100, n_indices=n_indices, kappa=10.0)
    n_classes = world.n_clusters if n_classes_from == "label" else world.n_indices
    generator = torch.Generator().manual_seed(0)
    encoder = MLPEncoder(
        5, 5, (256, 256, 256), normalize=False, generator=torch.Generator().manual_seed(0)
    )
    head = nn.Linear(5, n_classes, bias=False)
    optimizer = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=1e-3)

    def step() -> None:
        sample = world.sample(batch, generator=generator)
        y = sample.label if n_classes_from == "label" else sample.index
        loss = nn.functional.cross_entropy(head(encoder(sample.x)), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def rate(step, n_steps: int) -> float:
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return n_steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets, for a smoke test")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    rounds, block = (2, 10) if args.quick else (7, 60)

    steps = {kind: contrastive_step(kind, 512) for kind in ("infonce", "aninfonce")}
    for step in steps.values():  # warm-up
        for _ in range(5):
            step()
    measured: dict[str, list[float]] = {kind: [] for kind in steps}
    for _ in range(rounds):  # interleaved, so load changes hit both alike
        for kind, step in steps.items():
            measured[kind].append(rate(step, block))
    plain, an = (statistics.median(measured[k]) for k in ("infonce", "aninfonce"))
    print("\n1) contrastive learners, anisotropic sphere n=10, encoder 3×256, batch 512")
    print(f"   InfoNCE (dot, τ=0.1)      {plain:8.1f} steps/s")
    print(f"   AnInfoNCE (learned Λ̂)     {an:8.1f} steps/s")
    cost = 1.0 - an / plain
    verdict = "OK (< 10 %)" if cost < 0.10 else "ABOVE the 10 % budget"
    print(f"   cost of Λ̂: {100 * cost:+.1f} % steps/s  -> {verdict}")

    print("\n2) cross-entropy learners, cluster world n=5, C=100, κ=10, encoder 3×256, batch 1024")
    cases = [("supervised (C=100)", "label", 1000), ("DIET (N=1000)", "index", 1000)]
    cases.append(("DIET (N=10240)", "index", 10_240))
    for name, target, n_indices in cases:
        step = classifier_step(target, n_indices, 1024)
        for _ in range(3):
            step()
        figures = [rate(step, max(2, block // 3)) for _ in range(max(1, rounds // 2))]
        print(f"   {name:<20} {statistics.median(figures):8.1f} steps/s")


if __name__ == "__main__":
    main()
