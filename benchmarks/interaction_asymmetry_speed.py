"""Images per second of the interaction autoencoder's training and of its J-ARI/JIS evaluation,
each against a plain implementation run side by side.

1. Training: ``InteractionAutoencoder`` (regularised: Transformer decoder, α = β = 0.05, the
   experiment's sizes) on 2-object 32×32 sprites, vs the same encoder, decoder, Adam, warm-ups
   and loss (reconstruction + β·KL + α·L_int, L_int as the reference writes it: a Python double
   loop over slot pairs) in a plain loop written here. Interleaved: the learner's progress
   callback (every 10 steps) runs 10 plain steps; the first block of each is dropped; plain/ours
   is the median over ≥ 5 repeats of the ratio of the interleaved means (≥ 0.95 is parity).
2. Evaluation: slot Jacobian norms, J-ARI and JIS of 64 test scenes with
   :mod:`identifiable.metrics.slot_masks` (``vmap`` of ``jacfwd`` over chunks of scenes, a
   vectorised ARI) vs the reference's way (``jacfwd`` scene by scene, scikit-learn's ARI scene by
   scene), alternated, ≥ 5 repeats.

    python benchmarks/interaction_asymmetry_speed.py            # ~10 minutes on 2 cores
    python benchmarks/interaction_asymmetry_speed.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from sklearn.metrics import adjusted_rand_score

from identifiable.experiments.interaction_asymmetry import Config, make_learner, make_world
from identifiable.metrics.slot_masks import (
    foreground_labels,
    j_ari,
    jacobian_interaction_score,
    slot_jacobian_norms,
)

BLOCK = 10  # steps between progress calls


def plain_steps(learner_template, x: torch.Tensor):
    """A plain training loop of the same networks; returns ``run(n_steps)``."""
    torch.manual_seed(0)
    probe = make_learner(Config(), "regularized", seed=0)
    probe._validate()
    probe.device_ = torch.device("cpu")
    probe._build(x.shape[-1], torch.Generator().manual_seed(0))
    encoder, decoder = probe.encoder_, probe.decoder_
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=5e-4)
    alpha, beta = learner_template.alpha, learner_template.beta
    state = {"step": 0}

    def run(n: int) -> None:
        for _ in range(n):
            state["step"] += 1
            step = state["step"]
            for group in optimizer.param_groups:
                group["lr"] = 5e-4 * min(1.0, step / learner_template.lr_warmup)
            batch = x[torch.randint(len(x), (learner_template.batch_size,))]
            mu, s = encoder(batch).chunk(2, dim=-1)
            sigma = 0.5 * s.exp()
            kl = (0.5 * (sigma**2 + mu**2 - 1) - sigma.log()).flatten(1).sum(1).mean()
            images, weights = decoder.attend(mu + sigma * torch.randn_like(mu))
            a = weights.sum(2).mean(1)  # (n, P, K)
            interaction = 0.0
            for i in range(a.shape[-1]):
                for j in range(i + 1, a.shape[-1]):
                    interaction = interaction + a[..., i] * a[..., j]
            warm = min(1.0, step / learner_template.alpha_warmup)
            loss = (images - batch).pow(2).flatten(1).sum(1).mean() + beta * kl
            loss = loss + alpha * warm * interaction.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return run


def training_repeat(cfg: Config, world, blocks: int) -> tuple[float, float]:
    """(plain s/step, ours s/step), block by block after one warm-up block."""
    learner = make_learner(cfg, "regularized", seed=0)
    learner.steps, learner.eval_every = BLOCK * (blocks + 1), BLOCK
    plain = plain_steps(learner, world.split("train").x)
    ours_times: list[float] = []
    plain_times: list[float] = []
    last = [time.perf_counter()]

    def progress(done: int, total: int, **_: float) -> None:
        now = time.perf_counter()
        first = done <= BLOCK
        if not first:
            ours_times.append(now - last[0])
        start = time.perf_counter()
        plain(BLOCK)
        if not first:
            plain_times.append(time.perf_counter() - start)
        last[0] = time.perf_counter()

    learner.fit(world, progress=progress)
    return statistics.mean(plain_times) / BLOCK, statistics.mean(ours_times) / BLOCK


def plain_evaluation(decoder, slots: torch.Tensor, masks: torch.Tensor) -> tuple[float, float]:
    """The reference's evaluation: jacfwd scene by scene, scikit-learn's ARI scene by scene."""
    norms = []
    with torch.no_grad():
        for i in range(len(slots)):
            jac = torch.func.jacfwd(decoder)(slots[i : i + 1])  # (1, 3, S, S, 1, K, d)
            norms.append(jac.abs().sum(dim=(0, 1, 4, 6)).permute(2, 0, 1))
    norms = torch.stack(norms)
    normalized = norms / norms.sum(1, keepdim=True)
    labels = foreground_labels(masks)
    predicted = normalized.argmax(1).flatten(1)
    scores = []
    for i in range(len(labels)):
        keep = labels[i] > 0
        scores.append(adjusted_rand_score(labels[i][keep].numpy(), predicted[i][keep].numpy()))
    best = normalized.max(1).values.flatten(1)[labels > 0]
    k = normalized.shape[1]
    return sum(scores) / len(scores), float((best.mean() - 1 / k) / (1 - 1 / k))


def evaluation_repeat(learner, test) -> tuple[float, float, tuple[float, float, float, float]]:
    slots = learner.encode_slots(test.x)
    start = time.perf_counter()
    ours = slot_jacobian_norms(learner.decoder_function(), slots)
    ours_scores = (j_ari(test.masks, ours), jacobian_interaction_score(test.masks, ours))
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    plain_scores = plain_evaluation(learner.decoder_, slots, test.masks)
    plain_seconds = time.perf_counter() - start
    return plain_seconds, ours_seconds, (*ours_scores, *plain_scores)


def report(title: str, n: int, pairs: list[tuple[float, float]], unit: str) -> None:
    plain = statistics.median(p for p, _ in pairs)
    ours = statistics.median(o for _, o in pairs)
    ratio = statistics.median(p / o for p, o in pairs)
    print(title)
    print(f"  plain        {n / plain:8.1f} {unit}")
    print(f"  ours         {n / ours:8.1f} {unit}")
    print(f"  plain/ours   {ratio:.2f}   (parity: ≥ 0.95)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few steps, few scenes")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    repeats = max(5, args.repeats)
    blocks, scenes = (2, 8) if args.quick else (5, 64)
    cfg = Config(n_train=1000, eval_scenes=scenes, device="cpu")
    world = make_world(cfg)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {repeats} "
        "interleaved repeats"
    )
    pairs = [training_repeat(cfg, world, blocks) for _ in range(repeats)]
    report(
        f"training, regularised Transformer-VAE, 2 objects 32×32, batch {cfg.batch_size}:",
        cfg.batch_size, pairs, "images/s",
    )  # fmt: skip
    learner = make_learner(cfg, "regularized", seed=0)
    learner.steps, learner.eval_every = 2, 2
    learner.fit(world)
    test = world.split("test")
    results = [evaluation_repeat(learner, test) for _ in range(repeats)]
    report(
        f"evaluation: slot Jacobians ({cfg.slots} slots × {cfg.slot_dim}), J-ARI and JIS of "
        f"{scenes} scenes:",
        scenes, [(p, o) for p, o, _ in results], "scenes/s",
    )  # fmt: skip
    j, jis, j_plain, jis_plain = results[-1][2]
    print(f"  same numbers: J-ARI {j:.4f} vs {j_plain:.4f}, JIS {jis:.4f} vs {jis_plain:.4f}")


if __name__ == "__main__":
    main()
