"""Images per second of the compositional generator's training against a plain PyTorch loop, and
the throughput of rendering 2-object sprite scenes.

1. ``GeneratorRegressor`` (compositional: two upsampling decoders, one per slot, 277k parameters
   each at 64×64, + the sigmoid OccludeAdd; AdamW lr 1e-3 wd 1e-5, cosine schedule, batch 512) on
   a 2-slot sprites world, vs the same two decoders, composition, optimizer and schedule in a plain
   loop written here. Interleaved epoch by epoch in one process (the learner's progress callback
   runs one plain epoch after each of its own), a warm-up epoch dropped; plain/ours is the median
   over ≥ 5 repeats of the ratio of the interleaved means (≥ 0.95 counts as parity).
2. ``SlotAutoencoder`` (additive decoder, no consistency; conv encoder into 2 slots of 16, one
   upsampling decoder for both slots, summed; AdamW lr 4e-4 wd 1e-3, batch 64, per-image
   summed squared error) on 2-object sprites, vs the same encoder, decoder, optimizer and loss in
   a plain loop, interleaved the same way, at 32×32 and 64×64.
3. Rendering: ``CompositionalWorld(renderer="sprites").observe`` of 4 096 two-object scenes
   (each slot rendered on its own, then composed), images per second, at 32×32 and 64×64.

    python benchmarks/compositional_speed.py            # ~11 minutes on 2 cores
    python benchmarks/compositional_speed.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

from identifiable.learners.generator import GeneratorRegressor
from identifiable.learners.slot_autoencoder import SlotAutoencoder
from identifiable.models.decoders import AdditiveDecoder, UpsampleDecoder
from identifiable.models.slot_encoder import SlotEncoder
from identifiable.worlds.composition import compose
from identifiable.worlds.compositional import CompositionalWorld

BATCH = 512


def plain_epoch(world: CompositionalWorld, epochs: int):
    train = world.split("train")
    z, x = train.z, train.x
    torch.manual_seed(0)
    decoders = torch.nn.ModuleList(UpsampleDecoder(5, world.image_size, 3) for _ in range(2))
    optimizer = torch.optim.AdamW(decoders.parameters(), lr=1e-3, weight_decay=1e-5)
    steps = epochs * math.ceil(len(z) / BATCH)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=1e-5)

    def epoch() -> None:
        for rows in torch.randperm(len(z)).split(BATCH):
            renders = torch.stack([phi(z[rows, k]) for k, phi in enumerate(decoders)], dim=1)
            loss = F.mse_loss(compose(renders, "occlude"), x[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()

    return epoch


def plain_autoencoder_epoch(world: CompositionalWorld):
    x = world.split("train").x
    torch.manual_seed(0)
    encoder = SlotEncoder(tuple(x.shape[1:]), 2, 16)
    decoder = AdditiveDecoder(UpsampleDecoder(16, world.image_size, 3))
    parameters = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=4e-4, weight_decay=1e-3)

    def epoch() -> None:
        for rows in torch.randperm(len(x)).split(64):
            batch = x[rows]
            loss = (decoder(encoder(batch)) - batch).pow(2).flatten(1).sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return epoch


def interleaved(fit, plain) -> tuple[float, float]:
    """(plain s/epoch, ours s/epoch): ``fit(progress)`` calls progress after each epoch."""
    ours_times: list[float] = []
    plain_times: list[float] = []
    last = [time.perf_counter()]

    def progress(done: int, total: int, **_: float) -> None:
        now = time.perf_counter()
        if done > 1:
            ours_times.append(now - last[0])
        start = time.perf_counter()
        plain()
        if done > 1:
            plain_times.append(time.perf_counter() - start)
        last[0] = time.perf_counter()

    fit(progress)
    return statistics.mean(plain_times), statistics.mean(ours_times)


def one_repeat(world: CompositionalWorld, epochs: int) -> tuple[float, float]:
    """Generator: (plain s/epoch, ours s/epoch), epoch by epoch after one warm-up epoch."""
    learner = GeneratorRegressor(epochs=epochs + 1, eval_every=1, batch_size=BATCH, device="cpu")
    return interleaved(
        lambda progress: learner.fit(world, progress=progress), plain_epoch(world, epochs + 1)
    )


def autoencoder_repeat(world: CompositionalWorld, epochs: int) -> tuple[float, float]:
    learner = SlotAutoencoder(epochs=epochs + 1, eval_every=1, device="cpu")
    return interleaved(
        lambda progress: learner.fit(world, progress=progress), plain_autoencoder_epoch(world)
    )


def report(title: str, n: int, pairs: list[tuple[float, float]]) -> None:
    plain = statistics.median(p for p, _ in pairs)
    ours = statistics.median(o for _, o in pairs)
    ratio = statistics.median(p / o for p, o in pairs)
    print(title)
    print(f"  plain loop   {n / plain:8.0f} images/s")
    print(f"  ours         {n / ours:8.0f} images/s")
    print(f"  plain/ours   {ratio:.2f}   (parity: ≥ 0.95)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small set, few epochs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--image-size", type=int, default=32)
    args = parser.parse_args()
    repeats = max(5, args.repeats)
    n_train, epochs = (512, 2) if args.quick else (2048, 4)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {repeats} "
        "interleaved repeats"
    )
    world = CompositionalWorld(
        renderer="sprites", image_size=args.image_size, support="random", n_train=n_train
    )
    pairs = [one_repeat(world, epochs) for _ in range(repeats)]
    size = args.image_size
    report(
        f"compositional generator, 2 slots, {size}×{size} sprites, batch {BATCH}:", n_train, pairs
    )
    for image_size in (32, 64):
        scenes = CompositionalWorld(
            renderer="sprites", image_size=image_size, support="diagonal", delta=0.125,
            composition="sum", shared_renderer=True, no_overlap=True, n_train=n_train // 2,
        )  # fmt: skip
        pairs = [autoencoder_repeat(scenes, epochs) for _ in range(repeats)]
        title = f"additive slot autoencoder, 2 slots, {image_size}×{image_size}, batch 64:"
        report(title, n_train // 2, pairs)

    n = 512 if args.quick else 4096
    for image_size in (32, 64):
        scenes = CompositionalWorld(renderer="sprites", image_size=image_size, support="random")
        z = torch.rand(n, 2, 5, generator=torch.Generator().manual_seed(0))
        rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            scenes.observe(z)
            rates.append(n / (time.perf_counter() - start))
        print(f"rendering 2-object scenes at {image_size}×{image_size}, batch {n}:")
        print(f"  {statistics.median(rates):,.0f} images/s")


if __name__ == "__main__":
    main()
