"""Claim: the Latent Exploration Score (LES) of a VAE decoder tells latents the decoder supports
from latents far outside the prior, and as a term in latent space optimisation (LSO) it keeps
the optimised latents decoding to valid strings without giving up the objective.

Ronen, Humayun, Baraniuk, Balestriero, Yu (2025), "Mitigating over-exploration in latent space
optimization using LES", ICML, arXiv:2406.09657 (v1 "ScaLES"); official code OmerRonen/les,
read for the facts. The score: :func:`identifiable.metrics.latent_exploration.les_score`,
LES(z) = −½ log det(JᵀJ) with J the Jacobian of z ↦ (softmax(ℓ_t(z)), 1/Z_t(z))_t.

Setting (ours, CPU scale; the paper's tasks are SMILES/SELFIES/expression VAEs):

* World: :class:`~identifiable.worlds.formal_languages.FormalLanguageWorld` ``dyck`` (nested
  ( ) and [ ]) with L = ``max_length`` content tokens; strings are SOS · w · EOS · PAD…, fixed
  length L + 2, V = 7 token ids.
* Model: :class:`~identifiable.learners.sequence_vae.SequenceVAELearner`, a β-VAE with a
  one-hot MLP encoder and a non-autoregressive LeakyReLU MLP decoder z → logits (T, V) (CPA, so
  the cheap LES gradient with the Jacobian held fixed is exact a.e.).
* Validity: a decoded (argmax) string is valid iff its layout is SOS · w · EOS · PAD… with a
  non-empty w over the language's letters, and the language's rule checker
  (:func:`~identifiable.worlds.grammar_rules.rules`, ``grammatical``) accepts it.
* Black-box objective: the length |w| of a *valid* decoded string (undefined for invalid ones,
  as the paper's expression objective is NaN for unparsable expressions).
* Surrogate: an MLP regressor (LeakyReLU) fitted on the encoder means of the training strings
  → their length (the paper fits a GP on 500 encoded training points and ascends qLogEI; the
  surrogate mean is our acquisition).
* LSO (the official ``ga`` optimiser): from ``n_starts`` held-out strings' encoder means,
  ``lso_steps`` steps of z ← z + lr·(ĝ_obj + α·ĝ_LES), each gradient unit-normalised per row;
  α = 0 is plain LSO, α = 0.5 the paper's. The LES gradient is recomputed at every step with the
  exact Jacobian (the official code freezes A at the start point).

Scores per seed:

* (a) AUROC of LES between the encoder means of held-out valid strings (test split, not in the
  training split) and latents far outside the prior, N(0, (``far_scale``)² I) (the official
  ``ood.py`` uses 5 × the prior's scale); the prior's own score −‖z‖² as the baseline; also LES
  and −‖z‖² as predictors of the validity of decoded N(0, I) draws (the official OOD table).
* (b) per arm the valid fraction of the final decoded strings and the mean objective of the
  valid ones; paired (same seed, same starts) LES − plain difference of the valid fraction with
  a 95 % t-interval over seeds, and the ratio of mean objectives (of the valid strings, fixed
  before the judged seeds). ``objective_per_proposal`` (invalid strings count 0) was added as a
  diagnostic after the judged run, to show the survivor effect in the valid-only mean; no claim
  reads it.

Measured (seeds 0–4, defaults): LES ranks far latents *above* held-out ones (AUROC 0.03): the
LeakyReLU decoder's logits grow linearly away from the data, the softmax saturates and J shrinks,
so LES — which has no prior term — rises with ‖z‖ (mean 6.8 held-out, 165 far); the prior
−‖z‖² alone separates them perfectly and LES − ½‖z‖² (v1 ScaLES) is at chance (0.54). Among
N(0, I) draws LES does predict whether the decoded string is valid (AUROC 0.89; −‖z‖²: 0.48),
the use the official ``ood.py`` makes of it. In LSO the LES direction raises the valid fraction
(0.35 → 0.63) but the valid strings it finds are shorter (mean length 5.7 vs 8.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from identifiable._validation import check
from identifiable.claims import Claim, Expectation
from identifiable.experiments._common import TEST_SEED_OFFSET, mean_interval
from identifiable.experiments._result import Result
from identifiable.learners.sequence_vae import SequenceVAELearner
from identifiable.metrics._registry import declare
from identifiable.metrics.latent_exploration import les_gradient, les_score
from identifiable.progress import Progress, no_progress
from identifiable.worlds.formal_languages import FormalLanguageWorld
from identifiable.worlds.grammar_rules import EOS, LANGUAGES, PAD, SOS, rules

SUMMARY = "LES on a formal-language VAE: far latents, validity, LSO (Ronen et al. 2025)"
PAPER = "Ronen, Humayun, Baraniuk, Balestriero, Yu (2025), ICML, arXiv:2406.09657"

declare(
    "les_auroc",
    higher_is_better=True,
    kind="proportion",
    description="AUROC of LES: held-out valid strings' latents vs far latents",
)
declare(
    "prior_auroc",
    higher_is_better=None,
    kind="proportion",
    description="AUROC of the prior score −‖z‖²: held-out latents vs far latents",
)
declare(
    "scales_auroc",
    higher_is_better=True,
    kind="proportion",
    description="AUROC of the v1 ScaLES score LES − ½‖z‖²: held-out vs far latents",
)
declare(
    "far_valid_fraction",
    higher_is_better=None,
    kind="proportion",
    description="share of decoded far latents that are valid strings",
)
declare(
    "les_held_out",
    higher_is_better=None,
    description="mean LES of the held-out valid strings' latents",
)
declare("les_far", higher_is_better=None, description="mean LES of the far latents")
declare(
    "les_validity_auroc",
    higher_is_better=True,
    kind="proportion",
    description="AUROC of LES for the validity of decoded N(0, I) draws",
)
declare(
    "prior_validity_auroc",
    higher_is_better=None,
    kind="proportion",
    description="AUROC of −‖z‖² for the validity of decoded N(0, I) draws",
)
declare(
    "prior_valid_fraction",
    higher_is_better=None,
    kind="proportion",
    description="share of decoded N(0, I) draws that are valid strings",
)
declare(
    "valid_fraction",
    higher_is_better=True,
    kind="proportion",
    description="share of the strings decoded after LSO that are valid",
)
declare(
    "valid_fraction_gain",
    higher_is_better=True,
    description="valid fraction with LES minus without (same starts)",
)
declare(
    "objective",
    higher_is_better=True,
    description="mean black-box objective (length) of the valid decoded strings",
)
declare(
    "objective_per_proposal",
    higher_is_better=True,
    description="mean objective over all decoded strings, an invalid one counting 0",
)
declare(
    "objective_ratio",
    higher_is_better=True,
    bounds=(0.0, None),
    description="mean objective with LES over mean objective without",
)
declare(
    "reconstruction_accuracy",
    higher_is_better=True,
    kind="proportion",
    description="share of held-out strings the VAE decodes exactly from their mean",
)


@dataclass(frozen=True)
class Config:
    """Configuration of one latent-exploration run.

    language:         formal language of the strings (its rule checker decides validity).
    max_length:       L, content tokens per string (strings are L + 2 tokens with SOS/EOS).
    n_train:          training strings (draws with repeats, as the world's splits).
    n_test:           held-out strings (starts of LSO, in-distribution latents of claim a).
    n_latents:        d, the VAE's latent dimension.
    hidden:           hidden widths of the VAE's encoder (the decoder mirrors them).
    beta:             KL weight of the VAE.
    vae_steps:        Adam steps of the VAE (batch 128, lr 10⁻³, β warm-up over 20 %).
    n_score:          latents per class for claim (a) (held-out valid / far) and prior draws.
    far_scale:        standard deviation of the far latents N(0, far_scale² I).
    surrogate_hidden: hidden widths of the MLP surrogate of the objective on latents.
    surrogate_steps:  full-batch Adam steps (lr 10⁻²) fitting the surrogate.
    n_starts:         LSO start points (held-out strings' encoder means).
    lso_steps:        gradient-ascent steps of LSO (the paper: 10).
    lso_lr:           step length of LSO (the paper: 0.8 on expressions).
    alpha:            weight of the unit LES direction (the paper: 0.5); the plain arm uses 0.
    seeds:            independent worlds, VAEs, surrogates and starts; seed r uses seed + r.
    seed:             first seed.
    """

    language: str = "dyck"
    max_length: int = 12
    n_train: int = 2000
    n_test: int = 1000
    n_latents: int = 8
    hidden: tuple[int, ...] = (256, 256)
    beta: float = 1.0
    vae_steps: int = 3000
    n_score: int = 200
    far_scale: float = 5.0
    surrogate_hidden: tuple[int, ...] = (64, 64)
    surrogate_steps: int = 500
    n_starts: int = 100
    lso_steps: int = 10
    lso_lr: float = 0.8
    alpha: float = 0.5
    seeds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        check(
            self,
            integers=("max_length", "n_train", "n_test", "n_latents", "vae_steps", "n_score",
                      "surrogate_steps", "n_starts", "lso_steps", "seeds", "seed"),
            one_of={"language": tuple(LANGUAGES)},
            positive=("far_scale", "lso_lr", "alpha"),
            at_least={"max_length": 2, "n_train": 10, "n_test": 10, "n_latents": 1,
                      "vae_steps": 1, "n_score": 2, "surrogate_steps": 1, "n_starts": 1,
                      "lso_steps": 1, "seeds": 1, "seed": 0, "beta": 0.0},
        )  # fmt: skip
        if self.n_starts > self.n_test:
            raise ValueError(f"n_starts must be <= n_test = {self.n_test}, got {self.n_starts}")


# ---------------------------------------------------------------------- validity and objective
def content_lengths(tokens: torch.Tensor) -> torch.Tensor:
    """Tokens between position 0 and the first EOS per row (the string's length |w|)."""
    t = tokens.shape[1]
    positions = torch.arange(t).expand_as(tokens)
    first_eos = torch.where(tokens == EOS, positions, t).min(1).values
    return (first_eos - 1).clamp(min=0)


def valid_strings(tokens: torch.Tensor, language: str) -> torch.Tensor:
    """(n,) bool: SOS · w · EOS · PAD… with w non-empty over the letters, and w in the language."""
    tokens = torch.as_tensor(tokens).long()
    language_rules = rules(language)
    t = tokens.shape[1]
    positions = torch.arange(t).expand_as(tokens)
    length = content_lengths(tokens)
    inside = (positions >= 1) & (positions <= length[:, None])
    after = positions > (length + 1)[:, None]
    letters = torch.isin(tokens, torch.tensor(language_rules.alphabet))
    layout = (
        (tokens[:, 0] == SOS)
        & (tokens.eq(EOS).any(1))
        & (length >= 1)
        & (letters | ~inside).all(1)
        & ((tokens == PAD) | ~after).all(1)
    )
    return layout & language_rules.grammatical(tokens)


def objective(tokens: torch.Tensor, language: str) -> np.ndarray:
    """The black-box objective: |w| of a valid decoded string, NaN for an invalid one."""
    value = content_lengths(torch.as_tensor(tokens)).double().numpy()
    return np.where(valid_strings(tokens, language).numpy(), value, np.nan)


# ---------------------------------------------------------------------- surrogate and LSO
def fit_surrogate(
    z: torch.Tensor, y: torch.Tensor, hidden: tuple[int, ...], steps: int, seed: int
) -> nn.Module:
    """An MLP (LeakyReLU) regressing standardised y on z, full-batch Adam at lr 10⁻²."""
    generator = torch.Generator().manual_seed(seed)
    widths = (z.shape[1], *hidden, 1)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.LeakyReLU(0.01))
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                bound = layer.in_features**-0.5
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
    target = (y - y.mean()) / y.std().clamp_min(1e-8)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = ((net(z).squeeze(1) - target) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return net.eval()


def _unit(g: torch.Tensor) -> torch.Tensor:
    return g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)


def latent_space_optimisation(
    decoder: nn.Module, surrogate: nn.Module, z0: torch.Tensor, *, steps: int, lr: float,
    alpha: float,
) -> torch.Tensor:  # fmt: skip
    """z ← z + lr·(ĝ_obj + α·ĝ_LES) for ``steps`` steps (unit gradients per row); returns z."""
    z = z0.detach().clone().float()
    for _ in range(steps):
        probe = z.clone().requires_grad_(True)
        (g_obj,) = torch.autograd.grad(surrogate(probe).sum(), probe)
        direction = _unit(g_obj.double())
        if alpha > 0:
            direction = direction + alpha * _unit(les_gradient(decoder, z)[1])
        z = z + lr * direction.float()
    return z


def _auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    scores = np.r_[positive, negative]
    if not np.isfinite(scores).all() or len(set(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, scores))


# ---------------------------------------------------------------------- one seed
def run_seed(cfg: Config, seed: int) -> list[dict]:
    """Train the VAE and the surrogate for ``seed``; score (a) and run both LSO arms (b)."""
    world = FormalLanguageWorld(cfg.language, max_length=cfg.max_length, n_train=cfg.n_train,
                                n_validation=10, n_test=cfg.n_test, seed=seed)  # fmt: skip
    vae = SequenceVAELearner(n_latents=cfg.n_latents, hidden=tuple(cfg.hidden), beta=cfg.beta,
                             steps=cfg.vae_steps, eval_every=cfg.vae_steps, random_state=seed,
                             device="cpu").fit(world)  # fmt: skip
    decoder = vae.decoder_
    train, test = world.split("train").x, world.split("test").x
    row: dict = {"seed": seed, "vae_loss": vae.history_[-1]["loss"],
                 "vae_kl": vae.history_[-1]["kl"]}  # fmt: skip
    test_means = torch.as_tensor(vae.transform(test))
    row["reconstruction_accuracy"] = float(
        (torch.as_tensor(vae.decode(test_means)) == test).all(1).double().mean()
    )

    # (a) held-out valid strings (unseen in training) vs far latents; prior draws' validity
    seen = {tuple(r) for r in train.tolist()}
    unseen = torch.tensor([tuple(r) not in seen for r in test.tolist()])
    held_out = test_means[unseen & valid_strings(test, cfg.language)][: cfg.n_score]
    generator = torch.Generator().manual_seed(seed + TEST_SEED_OFFSET)
    far = cfg.far_scale * torch.randn(cfg.n_score, cfg.n_latents, generator=generator)
    prior = torch.randn(cfg.n_score, cfg.n_latents, generator=generator)
    les_in = les_score(decoder, held_out).numpy()
    les_far = les_score(decoder, far).numpy()
    les_prior = les_score(decoder, prior).numpy()
    norm = lambda z: -(z.double() ** 2).sum(1).numpy()  # noqa: E731
    prior_valid = valid_strings(torch.as_tensor(vae.decode(prior)), cfg.language).numpy()
    far_valid = valid_strings(torch.as_tensor(vae.decode(far)), cfg.language).numpy()
    row |= {
        "n_held_out": len(held_out),
        "les_held_out": float(np.mean(les_in)),
        "les_far": float(np.mean(les_far)),
        "les_auroc": _auroc(les_in, les_far),
        "prior_auroc": _auroc(norm(held_out), norm(far)),
        "scales_auroc": _auroc(les_in + norm(held_out) / 2, les_far + norm(far) / 2),
        "far_valid_fraction": float(far_valid.mean()),
        "prior_valid_fraction": float(prior_valid.mean()),
        "les_validity_auroc": _auroc(les_prior[prior_valid], les_prior[~prior_valid]),
        "prior_validity_auroc": _auroc(norm(prior)[prior_valid], norm(prior)[~prior_valid]),
    }

    # (b) LSO with and without LES from the same held-out starts
    train_means = torch.as_tensor(vae.transform(train))
    surrogate = fit_surrogate(train_means, content_lengths(train).float(),
                              tuple(cfg.surrogate_hidden), cfg.surrogate_steps, seed)  # fmt: skip
    starts = test_means[torch.randperm(len(test), generator=generator)[: cfg.n_starts]]
    row["start_objective"] = float(np.nanmean(objective(vae.decode(starts), cfg.language)))
    rows = []
    for arm, alpha in (("plain", 0.0), ("les", cfg.alpha)):
        final = latent_space_optimisation(decoder, surrogate, starts, steps=cfg.lso_steps,
                                          lr=cfg.lso_lr, alpha=alpha)  # fmt: skip
        values = objective(vae.decode(final), cfg.language)
        valid = np.isfinite(values)
        rows.append(row | {
            "arm": arm,
            "valid_fraction": float(valid.mean()),
            "objective": float(values[valid].mean()) if valid.any() else float("nan"),
            "objective_per_proposal": float(np.where(valid, values, 0.0).mean()),
            "final_norm": float(final.norm(dim=1).mean()),
            "final_les": float(les_score(decoder, final).mean()),
        })  # fmt: skip
    return rows


def run(cfg: Config, *, progress: Progress = no_progress) -> Result:
    """Every seed: VAE, scores of claim (a), both LSO arms of claim (b)."""
    rows = []
    for r in range(cfg.seeds):
        rows += run_seed(cfg, cfg.seed + r)
        progress(r + 1, cfg.seeds, seed=cfg.seed + r)
    curves = pd.DataFrame(rows)
    return Result(metrics=summarise(curves), curves=curves)


def summarise(curves: pd.DataFrame) -> dict[str, float]:
    """Means over seeds with 95 % t-intervals: the AUROCs (a); per arm the valid fraction and
    objective, the paired LES − plain valid-fraction gain and the objective ratio (b)."""
    metrics: dict[str, float] = {}
    per_seed = curves[curves["arm"] == "plain"].sort_values("seed")
    for name in (
        "les_auroc",
        "prior_auroc",
        "scales_auroc",
        "les_validity_auroc",
        "prior_validity_auroc",
        "prior_valid_fraction",
        "far_valid_fraction",
        "reconstruction_accuracy",
        "start_objective",
        "les_held_out",
        "les_far",
    ):
        mean, lo, hi = mean_interval(list(per_seed[name]))
        metrics |= {name: mean, f"{name}_ci_low": lo, f"{name}_ci_high": hi}
    columns = ["valid_fraction", "objective"]
    columns += ["objective_per_proposal"] if "objective_per_proposal" in curves else []
    arms = curves.pivot(index="seed", columns="arm", values=columns)
    for arm in ("plain", "les"):
        for column in columns:
            metrics[f"{arm}_{column}"] = float(arms[column][arm].mean())
    gain = arms["valid_fraction"]["les"] - arms["valid_fraction"]["plain"]
    mean, lo, hi = mean_interval(list(gain))
    metrics |= {"valid_fraction_gain": mean, "valid_fraction_gain_ci_low": lo,
                "valid_fraction_gain_ci_high": hi}  # fmt: skip
    plain = metrics["plain_objective"]
    metrics["objective_ratio"] = (
        metrics["les_objective"] / plain if np.isfinite(plain) and plain > 0 else float("nan")
    )
    return metrics


def figures(curves: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per seed: valid fraction and objective of both LSO arms (paired lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "arm" not in curves:
        return []
    fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.0))
    for ax, column in zip(axes, ("valid_fraction", "objective"), strict=True):
        table = curves.pivot(index="seed", columns="arm", values=column)
        for _, values in table.iterrows():
            ax.plot([0, 1], [values["plain"], values["les"]], marker="o", color="C0", alpha=0.6)
        ax.set_xticks([0, 1], ["LSO", "LSO + LES"])
        ax.set_ylabel(column.replace("_", " "))
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "latent_exploration.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


_SETUP = (
    "dyck strings of ≤ 12 brackets, a β-VAE (d = 8, one-hot MLP encoder, LeakyReLU MLP decoder), "
    "far latents N(0, 5² I), LSO: 10 unit-gradient steps of length 0.8 on an MLP surrogate of "
    "the string length from 100 held-out starts, α = 0.5; 5 seeds"
)
CLAIMS = [
    Claim(
        name="latent-exploration/les-separates-far-latents",
        statement="LES ranks the latents of held-out valid strings above latents far outside "
        "the prior: AUROC ≥ 0.8 (mean over seeds). " + _SETUP,
        paper=PAPER,
        expect=(Expectation("les_auroc", ">=", 0.8),),
        paper_value="LES as an OOD score (official ood.py: data vs N(0, (5σ)²) draws)",
        known_fail="AUROC 0.029 (95 % CI 0.007–0.050), seeds 0–4: the CPA decoder saturates far "
        "from the data, so LES rises with ‖z‖ (6.8 held-out vs 165 far); −‖z‖² gives 1.0, "
        "LES − ½‖z‖² 0.54; LES does predict validity of N(0, I) draws (AUROC 0.89)",
    ),
    Claim(
        name="latent-exploration/les-predicts-validity",
        statement="Among latents drawn from the prior N(0, I), LES ranks those that decode to "
        "valid strings above those that do not: AUROC ≥ 0.8 (mean over seeds) — the use the "
        "official ood.py makes of the score. Added after the judged run of the two claims above "
        "showed it as a diagnostic (0.89 on seeds 0–4), so it is judged on fresh seeds 5–9 "
        "with the issue's AUROC threshold. " + _SETUP.replace("5 seeds", "seeds 5–9"),
        paper=PAPER,
        overrides={"seed": 5},
        expect=(Expectation("les_validity_auroc", ">=", 0.8),),
        paper_value="LES predicts validity of decoded samples (official ood.py, README Table 1)",
    ),
    Claim(
        name="latent-exploration/les-keeps-lso-valid",
        statement="LSO with the LES direction decodes to valid strings more often than plain "
        "LSO (95 % interval of the paired difference above 0), at a mean objective of the valid "
        "strings within 10 % of plain LSO's. " + _SETUP,
        paper=PAPER,
        expect=(
            Expectation("valid_fraction_gain_ci_low", ">", 0.0),
            Expectation("objective_ratio", ">=", 0.9),
        ),
        paper_value="LES always enhances the quality of the solutions while maintaining high "
        "objective values (5 tasks, 22 VAEs)",
        known_fail="valid fraction 0.35 → 0.63 (gain CI low 0.004 > 0 holds), but the valid "
        "strings are shorter with LES: mean length 5.7 vs 8.7, ratio 0.65 < 0.9 (seeds 0–4)",
    ),
]
