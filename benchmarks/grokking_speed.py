"""Epochs per second of the grokking learner against a plain PyTorch loop, and the throughput of
local complexity.

1. FullBatchClassifier on modular addition (p = 113, 40 % train: 5 108 rows × 226 inputs, the
   bias-free ReLU MLP 226-200-200-113, softmax cross-entropy, AdamW lr 0.01, β₂ 0.99, ε 1e-25) vs
   the same model and optimizer in a plain loop written here (``nn.Sequential``,
   ``F.cross_entropy``, ``zero_grad / backward / step``). Interleaved block by block in one
   process: the learner evaluates every 10 epochs (its diagnostics — collapse fraction, zero-loss
   fraction, norms, cosines — included, as in a real run) and its progress callback then runs 10
   epochs of the plain loop, so both share the same load. A repeat is k blocks after a warm-up
   block; plain/ours is the median over ≥ 5 repeats of the ratio of the interleaved means
   (≥ 0.95 counts as parity).
2. Local complexity of the digits MLP (64-200×4-10) around 200 points with 25 directions
   (10 000 vertices): vertices per second, median of ≥ 5 repeats.

    python benchmarks/grokking_speed.py            # a minute or two on 2 cores
    python benchmarks/grokking_speed.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from identifiable.learners.full_batch import FullBatchClassifier
from identifiable.metrics.local_complexity import local_complexity
from identifiable.models.relu import relu_mlp
from identifiable.worlds.modular import modular_arithmetic


def plain_epoch(world):
    train = world.split("train")
    x, y = train.x, train.z
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(226, 200, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(200, 200, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(200, 113, bias=False),
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=0.01, betas=(0.9, 0.99), eps=1e-25, weight_decay=0.0
    )

    def epoch() -> None:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return epoch


BLOCK = 10


def one_repeat(world, blocks: int) -> tuple[float, float]:
    """(plain s/epoch, ours s/epoch), interleaved block by block after one warm-up block."""
    plain = plain_epoch(world)
    ours_times: list[float] = []
    plain_times: list[float] = []
    last = [time.perf_counter()]

    def progress(done: int, total: int, **_: float) -> None:
        now = time.perf_counter()
        if done > BLOCK:  # epoch 1 and the first block are warm-up
            ours_times.append((now - last[0]) / BLOCK)
        start = time.perf_counter()
        if done % BLOCK == 0:
            for _ in range(BLOCK):
                plain()
            if done > BLOCK:
                plain_times.append((time.perf_counter() - start) / BLOCK)
        last[0] = time.perf_counter()

    FullBatchClassifier(epochs=BLOCK * (blocks + 1), eval_every=BLOCK, device="cpu").fit(
        world, progress=progress
    )
    return statistics.mean(plain_times), statistics.mean(ours_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, 5 repeats")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    repeats = max(5, args.repeats)
    blocks = 2 if args.quick else 10
    world = modular_arithmetic("add", 113, 0.4)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {repeats} "
        "interleaved repeats"
    )
    pairs = [one_repeat(world, blocks) for _ in range(repeats)]
    plain = statistics.median(p for p, _ in pairs)
    ours = statistics.median(o for _, o in pairs)
    ratio = statistics.median(p / o for p, o in pairs)
    print("full-batch MLP, p = 113, 40 % train (5 108 × 226), diagnostics every 10 epochs:")
    print(f"  plain loop   {1 / plain:7.1f} epochs/s   ({plain * 1e3:.1f} ms/epoch)")
    print(f"  ours         {1 / ours:7.1f} epochs/s   ({ours * 1e3:.1f} ms/epoch)")
    print(f"  plain/ours   {ratio:.2f}   (parity: ≥ 0.95)")

    net = relu_mlp(64, 10, (200,) * 4, generator=torch.Generator().manual_seed(0))
    points = torch.rand(200, 64, generator=torch.Generator().manual_seed(1))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        local_complexity(net, points, 0.1, 25)
        rates.append(200 * 50 / (time.perf_counter() - start))
    print("local complexity, digits MLP 64-200×4-10, 200 points × 50 vertices:")
    print(f"  {statistics.median(rates):,.0f} vertices/s")


if __name__ == "__main__":
    main()
