"""Speed of the evaluation analyses (issue 17) against straightforward implementations, measured
side by side in one process.

1. VGGSounder metrics: ``identifiable.analysis.vggsounder.evaluate`` (every modality's seven
   multi-label scores and μ) against a plain implementation of the reference's definitions —
   per modality, ground truth grouped video by video in Python, a pandas merge with the
   predictions, scikit-learn's ``MultiLabelBinarizer`` and metric functions, as the reference's
   ``benchmark.py`` does — on the released predictions of seven models and the 0.1.6 label set
   (12 372 videos; the v1.0 set with background music: 15 069). Prints the median seconds per
   model over interleaved repeats, the ratio, and the largest difference between the two.

2. Nearest-neighbour similarity of every test point to a base set (cosine, top-1): faiss's
   exact inner-product index against a chunked torch matrix product (8 192 queries per chunk),
   each in its own subprocess so that its peak memory (ru_maxrss) is its own; interleaved
   repeats, median time. Default 10⁵ base × 10⁴ queries × 512; ``--huge`` 10⁵ × 10⁵ × 512
   (one run each).

    OMP_NUM_THREADS=1 python benchmarks/evaluation_speed.py           # a few minutes
    OMP_NUM_THREADS=1 python benchmarks/evaluation_speed.py --quick   # seconds

Needs the released data (../shared/data/vggsounder, or IDENTIFIABLE_SHARED_DATA).

Measured (2026-11-26, 2 cores shared with a mutation run and two trainings, full run, 1 150 s):

    VGGSounder vggsounder_0.1.6.csv: 7 models, 5 modalities + μ, median of 5 interleaved repeats
      plain (pandas + scikit-learn)    9.063 s per model
      identifiable                     0.569 s per model   speed-up 15.9×; largest difference 0.0
    VGGSounder vggsounder+background-music.csv: same
      plain (pandas + scikit-learn)   11.670 s per model
      identifiable                     0.904 s per model   speed-up 12.9×; largest difference 0.0
    nearest-neighbour similarity, 100000 base × 10000 queries × 512, top-1, median of 5
      faiss     11.06 s   peak memory +    304 MiB over the data (data: 215 MiB)
      torch     15.09 s   peak memory +   3211 MiB over the data (data: 215 MiB)
      faiss / torch time 0.73; same neighbours: True
    --huge: 100000 base × 100000 queries × 512, one run each (machine shared)
      faiss     62.24 s   peak memory +    621 MiB over the data (data: 391 MiB)
      torch     79.33 s   peak memory +   3534 MiB over the data (data: 391 MiB)
      faiss / torch time 0.78; same neighbours: True
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, jaccard_score, precision_score, recall_score
from sklearn.preprocessing import MultiLabelBinarizer

from identifiable.analysis.vggsounder import MODALITIES, evaluate, read_labels, read_predictions

DATA = Path(
    os.environ.get("IDENTIFIABLE_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data")
)
MODELS = ("gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "ola", "pandagpt",
          "unified-io-2", "video-llama-2-av")  # fmt: skip
KINDS = {"a": ("A", "AV"), "v": ("V", "AV"), "av": ("AV",), "a only": ("A",), "v only": ("V",),
         "all": ("A", "V", "AV")}  # fmt: skip


def plain(label_file: Path, prediction_file: Path) -> dict:
    """The reference's definitions written out the obvious way."""
    classes = list(pd.read_csv(label_file.parent / "classes.csv")["display_name"])
    rows = pd.read_csv(label_file, dtype=str, keep_default_na=False)
    with prediction_file.open("rb") as handle:
        raw = pickle.load(handle)

    def truth(modality):
        grouped: dict[str, list[str]] = {}
        for video, label, kind in zip(rows.video_id, rows.label, rows.modality, strict=True):
            if kind in KINDS[modality]:
                grouped.setdefault(video, []).append(label)
        return pd.DataFrame({"id": list(grouped), "labels": list(grouped.values())})

    def predicted(modality):
        source = {"a only": "a", "v only": "v"}.get(modality, modality)
        ids = [k.replace(".mp4", "") for k in raw]
        return pd.DataFrame({"id": ids, "labels": [v["predictions"][source] for v in raw.values()]})

    mlb = MultiLabelBinarizer(classes=classes)
    mlb.fit([])
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown predicted names: dropped, as the reference
        for modality in MODALITIES:
            merged = truth(modality).merge(predicted(modality), on="id", how="left",
                                           suffixes=("_gt", "_pred"))  # fmt: skip
            fill = merged["labels_pred"].apply(lambda x: x if isinstance(x, list) else [])
            y, p = mlb.transform(merged["labels_gt"]), mlb.transform(fill)
            results[modality] = {
                "f1": f1_score(y, p, average="micro", zero_division=0),
                "f1_macro": f1_score(y, p, average="macro", zero_division=0),
                "accuracy": accuracy_score(y, p),
                "jaccard": jaccard_score(y, p, average="micro"),
                "precision": precision_score(y, p, average="micro", zero_division=0),
                "recall": recall_score(y, p, average="micro", zero_division=0),
                "hit_rate": float(np.mean(np.any(y & p, axis=1))),
            }
        gt = truth("all")
        hits = {}
        for m in ("a", "v", "av"):
            merged = gt.merge(predicted(m), on="id", how="left", suffixes=("_gt", "_pred"))
            fill = merged["labels_pred"].apply(lambda x: x if isinstance(x, list) else [])
            hits[m] = np.any(mlb.transform(merged["labels_gt"]) & mlb.transform(fill), axis=1)
    results["mu"] = {"a": np.mean(hits["a"] & ~hits["av"]), "v": np.mean(hits["v"] & ~hits["av"]),
                     "av": np.mean(hits["a"] & hits["v"] & ~hits["av"])}  # fmt: skip
    return results


def ours(label_file: Path, prediction_file: Path) -> dict:
    table, summary = evaluate(read_labels(label_file), read_predictions(prediction_file))
    results = {row.pop("modality"): row for row in table.to_dict(orient="records")}
    results["mu"] = {m: summary[f"mu_{m}"] for m in ("a", "v", "av")}
    return results


def largest_difference(a: dict, b: dict) -> float:
    return max(abs(a[m][k] - b[m][k]) for m in a for k in a[m])


def vggsounder_speed(quick: bool) -> None:
    root = DATA / "vggsounder"
    if not (root / "classes.csv").is_file():
        print(f"VGGSounder: skipped, released data not at {root}")
        return
    models = MODELS[:2] if quick else MODELS
    repeats = 3 if quick else 5
    for label_name in ("vggsounder_0.1.6.csv", "vggsounder+background-music.csv"):
        label_file = root / label_name
        times: dict[str, list[float]] = {"plain": [], "ours": []}
        worst = 0.0
        for repeat in range(repeats):
            for name, run in (("plain", plain), ("ours", ours))[:: 1 if repeat % 2 == 0 else -1]:
                start = time.perf_counter()
                outputs = [run(label_file, root / "models-results" / f"{m}.pkl") for m in models]
                times[name].append((time.perf_counter() - start) / len(models))
                if name == "plain":
                    reference = outputs
                else:
                    mine = outputs
            pairs = zip(reference, mine, strict=True)
            worst = max(worst, *(largest_difference(r, o) for r, o in pairs))
        plain_s, ours_s = (statistics.median(times[k]) for k in ("plain", "ours"))
        print(f"\nVGGSounder {label_name}: {len(models)} models, 5 modalities + μ, median of "
              f"{repeats} interleaved repeats")  # fmt: skip
        print(f"  plain (pandas + scikit-learn)  {plain_s:7.3f} s per model")
        print(
            f"  identifiable                   {ours_s:7.3f} s per model   "
            f"speed-up {plain_s / ours_s:.1f}×; largest difference {worst:.1e}"
        )


_NN_CHILD = """
import resource, sys, time
import numpy as np
from identifiable.analysis.similarity import nearest
n_base, n_test, dim, backend = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(0)
base = rng.standard_normal((n_base, dim), dtype=np.float32)
test = rng.standard_normal((n_test, dim), dtype=np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
sims, idx = nearest(base, test, 1, backend=backend)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, before / 1024, peak / 1024, float(sims.sum()), int(idx.sum()))
"""


def nn_speed(quick: bool, huge: bool) -> None:
    import subprocess
    import sys

    n_base, n_test, repeats = (20_000, 2_000, 3) if quick else (100_000, 10_000, 5)
    if huge:
        n_test, repeats = 100_000, 1
    dim = 512
    results: dict[str, list[tuple[float, float, float]]] = {"faiss": [], "torch": []}
    checks = {}
    for repeat in range(repeats):
        for backend in ("faiss", "torch")[:: 1 if repeat % 2 == 0 else -1]:
            out = subprocess.run(
                [sys.executable, "-c", _NN_CHILD, str(n_base), str(n_test), str(dim), backend],
                capture_output=True, text=True, check=True,
            ).stdout.split()  # fmt: skip
            results[backend].append(tuple(float(v) for v in out[:3]))
            checks[backend] = (float(out[3]), int(out[4]))
    print(f"\nnearest-neighbour similarity, {n_base} base × {n_test} queries × {dim}, top-1, "
          f"median of {repeats} interleaved runs (own process each)")  # fmt: skip
    for backend, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        extra = statistics.median(r[2] - r[1] for r in runs)
        print(
            f"  {backend:<6} {seconds:8.2f} s   peak memory +{extra:7.0f} MiB over the data "
            f"(data: {n_base * dim * 4 / 2**20 + n_test * dim * 4 / 2**20:.0f} MiB)"
        )
    f, t = (statistics.median(r[0] for r in results[b]) for b in ("faiss", "torch"))
    same = checks["faiss"][1] == checks["torch"][1]
    print(
        f"  faiss / torch time {f / t:.2f}; same neighbours: {same}; "
        f"similarity sums {checks['faiss'][0]:.3f} / {checks['torch'][0]:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two models, 3 repeats")
    parser.add_argument("--huge", action="store_true", help="NN at 10⁵ × 10⁵ × 512, one run")
    parser.add_argument("--only", choices=("vggsounder", "nn"), help="one section only")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.only != "nn":
        vggsounder_speed(args.quick)
    if args.only != "vggsounder":
        nn_speed(args.quick, args.huge)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
