"""Training tokens per second of the tiny language models and completions per second of batched
greedy decoding, each against a plain PyTorch loop of the same model run side by side.

1. Training: ``LanguageModel`` (the rule-extrapolation experiment's sizes; Transformer and LSTM)
   on aNbN with max_length 64, vs a plain loop of the same network, AdamW and warm-up and the same
   masked cross-entropy on the full padded batch. Interleaved: the learner's progress callback
   (every 10 steps) runs 10 plain steps; the first block of each is dropped; plain/ours is the
   median over ≥ 5 repeats of the ratio of the interleaved means (≥ 0.95 is parity). Tokens/s
   counts batch × (L + 1) target positions per step for both.
2. Completion: every 6-letter aNbN prompt (64) completed greedily by ``LanguageModel.complete``
   vs the reference's loop (one token per step for every row, always to the full length,
   recomputing the prefix), alternated, ≥ 5 repeats.

    python benchmarks/language_speed.py            # a few minutes on 2 cores
    python benchmarks/language_speed.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import time

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
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats, blocks = (2, 2) if args.quick else (5, 5)
    for architecture in ("transformer", "lstm"):
        pairs, tokens = [], 0
        for _ in range(repeats):
            plain, ours, tokens = training_repeat(architecture, blocks)
            pairs.append((plain, ours))
        report(f"training, {architecture} (aNbN, L = 64, batch 128)", tokens, pairs, "tokens/s")
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


if __name__ == "__main__":
    main()
