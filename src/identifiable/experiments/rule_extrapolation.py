"""Claim: on prompts that already break one rule of a formal language, Transformers keep the other
rule better than LSTMs on context-free languages and worse on regular ones; and models at the
entropy floor of the data still disagree on such prompts (the next-token objective does not
identify OOD behaviour).

Mészáros, Ujváry, Brendel, Reizinger, Huszár (2024), "Rule Extrapolation in Language Modeling: A
Study of Compositional Generalization on OOD Prompts", NeurIPS, arXiv:2409.13728; official code
meszarosanna/rule_extrapolation (read for the facts). Reizinger, Ujváry, Mészáros, Kerekes,
Brendel, Huszár (2024), "Position: Understanding LLMs Requires More Than Statistical
Generalization", ICML, arXiv:2405.01964.

World (:class:`identifiable.worlds.formal_languages.FormalLanguageWorld`): each language of
``languages`` with L = ``max_length`` content tokens. Learners
(:class:`identifiable.learners.language_model.LanguageModel`): ``architectures`` × ``seeds``,
each kept at its lowest validation loss. Scores (:mod:`identifiable.metrics.language`): greedy
completions of every test prompt of ``prompt_length`` letters, split ID / OOD; the
*rule-extrapolation score* is OOD R1 accuracy (among finished completions, as the reference's
tables). Per language and architecture: the mean over seeds with a 95 % t-interval; per
language, the paired (same seed) Transformer − LSTM difference with its interval. The
non-identifiability check (the position paper's point, measured): for each language with a
finite word list (aNbN, aNbNcN) the exact entropy floor H of the validation set; pairs fixed in
advance — (Transformer i, LSTM i) and (Transformer i, Transformer i + 1) — count as *saturated*
when both validation losses are within ``saturation`` (relative) of H, and the share of saturated
pairs whose OOD R1 differs by ≥ 0.2 is reported.

Reference setting: max_length 256, prompts of 8 letters (aNbN, baN, bbaN), 5 (aNbNcN), 6 (Dyck);
Transformer d = 10, 5 heads, feed-forward 1024, 7 layers; LSTM width 64, 5 layers; AdamW lr
2·10⁻³, batch 128, up to 50 000 epochs (validation every 250, early stopping), on a GPU; its
tables take each metric's best value over the run. CPU scaling (ours): max_length 32, prompts of
6 letters for every language, the reference's default Transformer (d = 8, 4 heads, feed-forward
128, 2 layers), an LSTM of width 64 with 2 layers, 2 000 AdamW steps of batch 128 at lr 10⁻²
(the reference's default config), the model of lowest validation loss scored once (≈ 85 s per
Transformer, 55 s per LSTM on 2 CPU threads). At max_length 64 and 600 steps no model learnt to
end a baN/bbaN word within the length (every finished-only score 0), hence 32 and more steps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._common import mean_interval
from identifiable.experiments._result import Result
from identifiable.learners.language_model import LanguageModel
from identifiable.metrics._registry import declare
from identifiable.metrics.language import entropy_floor, rule_accuracies
from identifiable.models.causal_lm import ARCHITECTURES
from identifiable.progress import Progress, no_progress, subspan
from identifiable.worlds.formal_languages import FormalLanguageWorld
from identifiable.worlds.grammar_rules import LANGUAGES

SUMMARY = "Rule extrapolation of tiny LMs on formal languages (Mészáros et al. 2024)"
PAPER = "Mészáros, Ujváry, Brendel, Reizinger, Huszár (2024), NeurIPS, arXiv:2409.13728"
POSITION = "Reizinger, Ujváry, Mészáros, Kerekes, Brendel, Huszár (2024), ICML, arXiv:2405.01964"
FINITE = ("aNbN", "aNbNcN")  # languages whose data is every word: exact entropy floor
DIFFERENCE = 0.2  # OOD R1 gap that counts as "behaves differently"

declare(
    "ood_rule_1",
    higher_is_better=True,
    kind="proportion",
    description="rule-extrapolation score: R1 accuracy of completions of OOD prompts",
)
declare(
    "saturated_pairs",
    higher_is_better=None,
    bounds=(0.0, None),
    description="model pairs fixed in advance whose validation losses are both at the floor",
)
declare(
    "saturated_pairs_differing",
    higher_is_better=None,
    kind="proportion",
    description="share of saturated pairs whose OOD R1 differs by >= 0.2",
)


@dataclass(frozen=True)
class Config:
    """Configuration of one rule-extrapolation run.

    languages:      which of aNbN, aNbNcN, baN, bbaN, dyck, cs_dyck.
    architectures:  which of transformer, lstm, linear.
    seeds:          learner seeds 0 … seeds − 1 per language and architecture (intervals need ≥ 2).
    max_length:     L, content tokens per sequence (≤ 64 for CPU; the reference: 256).
    prompt_length:  letters per test prompt (the reference: 6 to 8).
    n_train, n_validation: sequences of the random languages (aNbN, aNbNcN use every word).
    d_model, heads, feedforward, transformer_layers: the Transformer (reference default config:
                    8, 4, 128, 2; the paper's sweeps: 10, 5, 1024, 7).
    lstm_hidden, lstm_layers: the LSTM (the reference: 64, 5).
    steps, batch_size, lr, weight_decay, eval_every: training (AdamW; lowest validation loss kept).
    saturation:     relative distance to the entropy floor that counts as "at the floor".
    world_seed:     draws the random languages' sequences.
    device:         ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    """

    languages: tuple[str, ...] = tuple(LANGUAGES)
    architectures: tuple[str, ...] = ARCHITECTURES
    seeds: int = 5
    max_length: int = 32
    prompt_length: int = 6
    n_train: int = 512
    n_validation: int = 256
    d_model: int = 8
    heads: int = 4
    feedforward: int = 128
    transformer_layers: int = 2
    lstm_hidden: int = 64
    lstm_layers: int = 2
    steps: int = 2000
    batch_size: int = 128
    lr: float = 1e-2
    weight_decay: float = 0.01
    eval_every: int = 50
    saturation: float = 0.01
    world_seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def __post_init__(self) -> None:
        check(
            self,
            positive=("lr", "saturation"),
            at_least={
                "seeds": 1, "max_length": 3, "prompt_length": 1, "n_train": 1, "n_validation": 1,
                "d_model": 1, "heads": 1, "feedforward": 1, "transformer_layers": 1,
                "lstm_hidden": 1, "lstm_layers": 1, "steps": 1, "batch_size": 1,
                "weight_decay": 0.0, "eval_every": 1, "world_seed": 0,
            },
        )  # fmt: skip
        for name, allowed in (("languages", tuple(LANGUAGES)), ("architectures", ARCHITECTURES)):
            values = getattr(self, name)
            unknown = [v for v in values if v not in allowed]
            if unknown or not values:
                raise ValueError(f"{name} must be some of {', '.join(allowed)}, got {list(values)}")
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")
        for language in self.languages:
            make_world(self, language).prompts(self.prompt_length)  # raises if it cannot fit


def make_world(cfg: Config, language: str) -> FormalLanguageWorld:
    return FormalLanguageWorld(
        language,
        max_length=cfg.max_length,
        n_train=cfg.n_train,
        n_validation=cfg.n_validation,
        n_test=1,
        seed=cfg.world_seed,
    )


def make_learner(cfg: Config, architecture: str, seed: int) -> LanguageModel:
    layers = {"transformer": cfg.transformer_layers, "lstm": cfg.lstm_layers}.get(architecture, 0)
    return LanguageModel(
        architecture,
        d_model=cfg.d_model,
        heads=cfg.heads,
        feedforward=cfg.feedforward,
        layers=layers,
        hidden=cfg.lstm_hidden,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        batch_size=cfg.batch_size,
        steps=cfg.steps,
        eval_every=cfg.eval_every,
        random_state=seed,
        device=cfg.device,
    )


def evaluate(learner: LanguageModel, world: FormalLanguageWorld, prompt_length: int) -> dict:
    """ID and OOD rule accuracies of greedy completions, and the validation loss."""
    prompts = world.prompts(prompt_length)
    scores: dict[str, float] = {}
    for part, tokens in (("id", prompts.in_distribution), ("ood", prompts.ood)):
        completed = learner.complete(tokens)
        for name, value in rule_accuracies(completed, world.rules, tokens.shape[1]).items():
            scores[f"{part}_{name}"] = value
    scores["validation_loss"] = learner.best_validation_loss_
    scores["best_step"] = float(learner.best_step_)
    scores["train_seconds"] = learner.history_[-1]["train_seconds"]
    return scores


def saturated_pairs(rows: pd.DataFrame, floor: float, tolerance: float) -> tuple[int, int]:
    """(saturated pairs, of which OOD R1 differs by ≥ 0.2) over the pairs fixed in advance:
    (Transformer i, LSTM i) and (Transformer i, Transformer i + 1)."""
    by = {(r.architecture, int(r.seed)): r for r in rows.itertuples()}
    seeds = sorted({s for _, s in by})
    pairs = [(("transformer", s), ("lstm", s)) for s in seeds]
    pairs += [(("transformer", s), ("transformer", s + 1)) for s in seeds]
    limit = floor * (1 + tolerance)
    saturated = differing = 0
    for a, b in pairs:
        if a not in by or b not in by:
            continue
        if by[a].validation_loss <= limit and by[b].validation_loss <= limit:
            saturated += 1
            differing += abs(by[a].ood_rule_1 - by[b].ood_rule_1) >= DIFFERENCE
    return saturated, differing


def train(cfg: Config, *, progress: Progress = no_progress) -> pd.DataFrame:
    """Train and score every language × architecture × seed: one row each (a job depends only on
    its own language, architecture and seed, so languages can be trained apart and the tables
    concatenated)."""
    jobs = list(itertools.product(cfg.languages, cfg.architectures, range(cfg.seeds)))
    rows = []
    worlds = {language: make_world(cfg, language) for language in cfg.languages}
    for i, (language, architecture, seed) in enumerate(jobs):
        learner = make_learner(cfg, architecture, seed)
        learner.fit(
            worlds[language], progress=subspan(progress, i / len(jobs), (i + 1) / len(jobs))
        )
        rows.append({"language": language, "architecture": architecture, "seed": seed}
                    | evaluate(learner, worlds[language], cfg.prompt_length))  # fmt: skip
    return pd.DataFrame(rows)


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Train every language × architecture × seed, score the completions, summarise."""
    table = train(cfg, progress=progress)
    worlds = {language: make_world(cfg, language) for language in cfg.languages}
    return Result(metrics=summarise(table, cfg), curves=table, artifacts={"worlds": worlds})


def summarise(table: pd.DataFrame, cfg: Config) -> dict[str, float]:
    """Per language and architecture: mean OOD R1 with its interval and the other scores; per
    language: the paired Transformer − LSTM difference, the margin over the linear model and
    (aNbN, aNbNcN) the saturated pairs."""
    metrics: dict[str, float] = {}
    for (language, architecture), group in table.groupby(["language", "architecture"], sort=False):
        mean, low, high = mean_interval(list(group["ood_rule_1"]))
        metrics[f"{language}_{architecture}_ood_rule_1"] = mean
        if len(group) > 1:
            metrics[f"{language}_{architecture}_ood_rule_1_ci_low"] = low
            metrics[f"{language}_{architecture}_ood_rule_1_ci_high"] = high
        for name in ("id_rule_1", "id_rule_2", "ood_rule_2_completion", "ood_finished",
                     "validation_loss"):  # fmt: skip
            metrics[f"{language}_{architecture}_{name}"] = float(group[name].mean())
    for language, group in table.groupby("language", sort=False):
        pivot = group.pivot(index="seed", columns="architecture", values="ood_rule_1")
        if {"transformer", "lstm"} <= set(pivot.columns):
            mean, low, high = mean_interval(list(pivot["transformer"] - pivot["lstm"]))
            metrics[f"{language}_transformer_minus_lstm"] = mean
            if len(pivot) > 1:
                metrics[f"{language}_transformer_minus_lstm_ci_low"] = low
                metrics[f"{language}_transformer_minus_lstm_ci_high"] = high
        nonlinear = [a for a in ("transformer", "lstm") if a in pivot.columns]
        if "linear" in pivot.columns and nonlinear:
            margin = min(pivot[a].mean() for a in nonlinear) - pivot["linear"].mean()
            metrics[f"{language}_nonlinear_minus_linear"] = float(margin)
        if language in FINITE:
            floor = entropy_floor(make_world(cfg, language).split("validation").x)
            metrics[f"{language}_entropy_floor"] = floor
            saturated, differing = saturated_pairs(group, floor, cfg.saturation)
            metrics[f"{language}_saturated_pairs"] = float(saturated)
            if saturated:
                metrics[f"{language}_saturated_pairs_differing"] = differing / saturated
    margins = [v for k, v in metrics.items() if k.endswith("_nonlinear_minus_linear")]
    if margins:
        metrics["nonlinear_minus_linear_min"] = float(min(margins))
    return metrics


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """OOD R1 (the rule-extrapolation score) per language × architecture, mean over seeds with
    95 % t-intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "ood_rule_1" not in curves:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    languages = list(dict.fromkeys(curves["language"]))
    architectures = list(dict.fromkeys(curves["architecture"]))
    width = 0.8 / len(architectures)
    fig, ax = plt.subplots(figsize=(1.3 * len(languages) + 1.5, 3.2))
    for j, architecture in enumerate(architectures):
        means, errors = [], []
        for language in languages:
            values = curves[(curves["language"] == language)
                            & (curves["architecture"] == architecture)]["ood_rule_1"]  # fmt: skip
            mean, low, _ = mean_interval(list(values)) if len(values) else (np.nan,) * 3
            means.append(mean)
            errors.append(0.0 if np.isnan(low) else mean - low)
        x = np.arange(len(languages)) + (j - (len(architectures) - 1) / 2) * width
        ax.bar(x, means, width, yerr=errors, capsize=2, label=architecture)
    ax.set_xticks(np.arange(len(languages)), languages)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("OOD R1 accuracy")
    ax.set_title("rule extrapolation (mean over seeds, 95 % CI)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out_dir / "rule_extrapolation.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "max_length 32, prompts of 6 letters; Transformer d 8 / 4 heads / FF 128 / 2 layers, LSTM "
    "64 × 2, causal linear model; 2 000 AdamW steps of batch 128, lr 1e-2, the lowest validation "
    "loss kept; 5 seeds"
)
_PAPER_TABLE = (
    "reference sweep exports (OOD R1, mean ± std over runs): aNbN Transformer 0.657 ± 0.162 vs "
    "LSTM 0.376; Dyck 0.980 vs 0.543; aNbNcN 0.187 vs 0.068; baN 0.605 vs 0.862; bbaN 0.105 vs "
    "1.000"
)

CLAIMS = [
    Claim(
        name="rule-extrapolation/transformer-beats-lstm-context-free",
        statement="On the context-free languages aNbN and Dyck, the Transformer keeps R1 on OOD "
        "prompts more often than the LSTM: the 95 % interval of the paired difference over 5 "
        "seeds excludes 0 for both. " + _SETUP,
        paper=PAPER + ", Tables 4–5",
        expect=(
            Expectation("aNbN_transformer_minus_lstm_ci_low", ">", 0.0),
            Expectation("dyck_transformer_minus_lstm_ci_low", ">", 0.0),
        ),
        paper_value=_PAPER_TABLE,
        known_fail="aNbN in the reference's direction but not beyond noise: Transformer − LSTM "
        "+0.111 [-0.076, 0.298] (0.470 vs 0.359); Dyck -0.050 [-0.115, 0.015] (0.863 vs 0.912) "
        "— our Transformers are undertrained (none reaches the entropy floor: aNbN validation "
        "loss 0.159-0.183 vs floor 0.154, where every LSTM sits)",
        fast=False,
    ),
    Claim(
        name="rule-extrapolation/lstm-beats-transformer-regular",
        statement="On the regular language bbaN the LSTM keeps R1 on OOD prompts at least as "
        "often as the Transformer: the 95 % interval of Transformer − LSTM lies below 0. " + _SETUP,
        paper=PAPER + ", Table 3",
        expect=(Expectation("bbaN_transformer_minus_lstm_ci_high", "<", 0.0),),
        paper_value=_PAPER_TABLE,
        fast=False,
    ),
    Claim(
        name="rule-extrapolation/linear-model-below-both",
        statement="On every language the linear model's mean OOD R1 is below both nonlinear "
        "models' (the smallest margin over the six languages is > 0). " + _SETUP,
        paper=PAPER + ", Tables 2–7",
        expect=(Expectation("nonlinear_minus_linear_min", ">", 0.0),),
        known_fail="holds on aNbN, aNbNcN, Dyck, cs-Dyck (margins 0.152, 0.056, 0.288, 0.585) "
        "but not on the regular languages: bbaN linear 1.000 = LSTM 1.000 > Transformer 0.550; "
        "baN linear 0.431 > Transformer 0.286 (the reference's linear model is also above its "
        "Transformer on bbaN: 0.534 vs 0.105)",
        paper_value="Linear: baN 0.500, bbaN 0.534, aNbN 0.275, Dyck 0.000, aNbNcN 0.000, "
        "cs-Dyck 0.000 — below both nonlinear models everywhere but bbaN's Transformer (0.105)",
        fast=False,
    ),
    Claim(
        name="rule-extrapolation/saturated-models-disagree",
        statement="Non-identifiability of the next-token objective on aNbN: among the model "
        "pairs fixed in advance (Transformer i with LSTM i, Transformer i with Transformer i+1) "
        "whose validation losses are both within 1 % of the exact entropy floor, at least one "
        "pair exists and ≥ 25 % of them differ by ≥ 0.2 in OOD R1. " + _SETUP,
        paper=POSITION + ", Sec. 3 (rule extrapolation case study)",
        expect=(
            Expectation("aNbN_saturated_pairs", ">=", 1.0),
            Expectation("aNbN_saturated_pairs_differing", ">=", 0.25),
        ),
        paper_value="qualitative: models with the same (optimal) test loss can differ on "
        "zero-probability prompts",
        known_fail="no pre-registered pair is saturated: every pair holds a Transformer and no "
        "Transformer reaches the floor (aNbN validation loss 0.159-0.183, floor 0.154, 1 % "
        "band 0.156); the LSTMs and linear models do (0.154-0.155)",
        fast=False,
    ),
]
