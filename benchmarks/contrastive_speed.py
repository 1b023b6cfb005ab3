"""Speed of the contrastive learner on the paper's sphere setting (prints figures; no asserts).

1. Seconds and steps to reach linear R² >= 0.99 (held-out) with the default CPU config
   (sphere, n = 10, vMF κ = 10, τ = 0.1, 3-layer mixing, 3×256 encoder, batch 512, lr 1e-3).
2. Steps/s at batch 1024 and 6144 with the *reference* encoder (10→100→500→500→500→500→100→10),
   to compare per-step throughput with the official cl-ica code at the same batch size.

Reference figures measured on a 2-core CPU like ours (../shared/papers/contrastive-cl-ica.md):
cl-ica unmodified ≈ 0.73 s/step at batch 6144 and ≈ 70 ms/step at batch 1024
(κ=10, τ=0.1, lr 1e-4: R² 0.73 after 2 000 steps, 0.87 after 4 500 steps / 320 s).

    python benchmarks/contrastive_speed.py            # full (≈ 4 min on 2 cores)
    python benchmarks/contrastive_speed.py --quick    # smoke test (≈ 20 s)
"""

from __future__ import annotations

import argparse
import time

import torch

from identifiable.experiments.contrastive import Config, make_world
from identifiable.learners.contrastive import ContrastiveLearner
from identifiable.learners.encoders import MLPEncoder
from identifiable.losses import info_nce

REFERENCE_S_PER_STEP = {1024: 0.070, 6144: 0.73}
REFERENCE_HIDDEN = (100, 500, 500, 500, 500, 100)


def training_history(budget: int, eval_every: int) -> list[dict]:
    cfg = Config()
    learner = ContrastiveLearner(
        hidden=(cfg.encoder_width,) * cfg.encoder_depth,
        tau=cfg.tau,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        lr_schedule=cfg.lr_schedule,
        steps=budget,
        eval_every=eval_every,
        random_state=0,
    ).fit(make_world(cfg))
    return learner.history_


def first_reaching(history: list[dict], target: float) -> dict | None:
    return next((r for r in history if r["linear_r2"] >= target), None)


def steps_per_second(batch: int, n_steps: int) -> float:
    world = make_world(Config())
    generator = torch.Generator().manual_seed(0)
    encoder = MLPEncoder(
        10, 10, REFERENCE_HIDDEN, normalize=True, generator=torch.Generator().manual_seed(0)
    )
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-4)
    torch.set_flush_denormal(True)

    def step() -> None:
        pairs = world.pairs(batch, generator=generator)
        h = encoder(torch.cat([pairs.x, pairs.x_pos]))
        loss = info_nce(h[:batch], h[batch:], 0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):  # warm-up
        step()
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return n_steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets, for a smoke test")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")

    budget = 2000 if args.quick else 14000
    history = training_history(budget, eval_every=250)
    print(f"\n1) default config (batch 512), held-out linear R² every 250 steps, budget {budget}:")
    for target, reference in ((0.87, "cl-ica: 4 500 steps, 320 s"), (0.99, "cl-ica: not reached")):
        found = first_reaching(history, target)
        if found is None:
            print(f"   R² >= {target}: not reached (last {history[-1]['linear_r2']:.4f})")
        else:
            print(
                f"   R² >= {target}: step {int(found['step'])}, {found['train_seconds']:.1f} s "
                f"of training (R² {found['linear_r2']:.4f}, MCC {found['mcc']:.3f})   "
                f"[{reference}]"
            )

    print("\n2) throughput with the reference encoder 10-100-500x4-100-10, dot InfoNCE:")
    print(f"   {'batch':>6} {'steps/s':>9} {'s/step':>8} {'reference s/step':>17} {'speed-up':>9}")
    for batch in (1024, 6144):
        n = 3 if args.quick else (40 if batch == 1024 else 10)
        rate = steps_per_second(batch, n)
        ref = REFERENCE_S_PER_STEP[batch]
        print(f"   {batch:>6} {rate:>9.2f} {1 / rate:>8.3f} {ref:>17.3f} {ref * rate:>8.2f}x")


if __name__ == "__main__":
    main()
