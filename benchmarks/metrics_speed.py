"""Speed and memory of the metrics, each against a straightforward implementation of its
definition run side by side in this process (plain/ours; ≥ 0.95 is parity), and agreement of the
numbers.

1. Alignment on n × 512 Gaussian features related by a noisy linear map (L2-normalised):
   ``mutual_knn`` at n = 10 000 — ours ranks neighbours 2 048 rows at a time; the plain one is
   the reference's (full n × n similarity, argsort, two n × n masks). Peak memory of each is
   measured in a fresh child process (peak resident set minus the set once inputs are built).
   ``cka``/``unbiased_cka`` (ours from the features, O(n·d²); plain from the n × n kernels, the
   reference's HSIC formulas), ``cknna``, ``cycle_knn``/``lcs_knn``/``edit_distance_knn``
   (plain: per-row Python DP as the reference's loop) and ``svcca`` (plain: sklearn's CCA as
   the reference) at the sizes printed.
2. The permutation null (100 shuffles) of ``mutual_knn`` and ``cka``: ours relabels neighbour
   lists / reuses the features; plain rescored every shuffled copy.
3. ``mcc`` and ``linear_r2`` on 10⁵ × 64 (time only; they must not regress).
4. The disentanglement metrics at disentanglement_lib's sample budgets (10 000 train /
   5 000 test, 10 factors × 10 values, 10 codes): time, against plain loops of their
   definitions where ours differs from one sklearn call per factor.

    python benchmarks/metrics_speed.py            # about 10 minutes on 2 cores
    python benchmarks/metrics_speed.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

from identifiable.metrics import alignment as al
from identifiable.metrics.identifiability import linear_r2, mcc


def features(n: int, d: int = 512, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d)).astype(np.float32)
    b = a @ rng.normal(size=(d, d)).astype(np.float32) / np.sqrt(d)
    b += 0.5 * rng.normal(size=(n, d)).astype(np.float32)
    return al.prepare_features(a, q=1.0), al.prepare_features(b, q=1.0)


# ---- plain implementations of the definitions (the reference's way) -------------------------
def plain_knn(x: torch.Tensor, k: int) -> torch.Tensor:
    return (x @ x.T).fill_diagonal_(-1e8).argsort(dim=1, descending=True)[:, :k]


def plain_mutual_knn(a, b, k=10) -> float:
    a, b = torch.from_numpy(a).double(), torch.from_numpy(b).double()
    n = len(a)
    mask_a = torch.zeros(n, n).scatter_(1, plain_knn(a, k), 1.0)
    mask_b = torch.zeros(n, n).scatter_(1, plain_knn(b, k), 1.0)
    return float(((mask_a * mask_b).sum(dim=1) / k).mean())


def plain_cka(a, b, unbiased=False) -> float:
    a, b = torch.from_numpy(a).double(), torch.from_numpy(b).double()
    k_mat, l_mat = a @ a.T, b @ b.T
    hsic = al.hsic_unbiased if unbiased else al.hsic_biased
    return float(
        hsic(k_mat, l_mat) / (torch.sqrt(hsic(k_mat, k_mat) * hsic(l_mat, l_mat)) + al.EPS)
    )


def plain_lists(a, b, k, which: str) -> float:
    knn_a = plain_knn(torch.from_numpy(a).double(), k).numpy()
    knn_b = plain_knn(torch.from_numpy(b).double(), k).numpy()
    values = []
    for row, (p, q) in enumerate(zip(knn_a, knn_b, strict=True)):
        if which == "cycle":
            values.append(float(any(row in knn_a[j] for j in q)))
            continue
        t = np.zeros((k + 1, k + 1))
        if which == "edit":
            t[:, 0], t[0, :] = np.arange(k + 1), np.arange(k + 1)
        for i in range(1, k + 1):
            for j in range(1, k + 1):
                if which == "lcs":
                    t[i, j] = (
                        t[i - 1, j - 1] + 1
                        if p[i - 1] == q[j - 1]
                        else max(t[i - 1, j], t[i, j - 1])
                    )
                else:
                    t[i, j] = min(
                        t[i - 1, j] + 1, t[i, j - 1] + 1, t[i - 1, j - 1] + (p[i - 1] != q[j - 1])
                    )
        values.append(t[k, k])
    mean = float(np.mean(values))
    return 1 - mean / k if which == "edit" else mean


def plain_svcca(a, b, dims=10) -> float:
    from sklearn.cross_decomposition import CCA

    def top(v):
        v = torch.from_numpy(v).double()
        v = (v - v.mean(0)) / (v.std(0) + 1e-8)
        return torch.linalg.svd(v, full_matrices=False).U[:, :dims].numpy()

    u_a, u_b = top(a), top(b)
    c_a, c_b = CCA(n_components=dims, max_iter=500).fit(u_a, u_b).transform(u_a, u_b)
    return float(np.mean([np.corrcoef(c_a[:, i], c_b[:, i])[0, 1] for i in range(dims)]))


def plain_cknna(a, b, k=10) -> float:
    """The reference's CKNNA: n × n kernels, top-k masks, unbiased HSIC of the masked kernels."""
    a, b = torch.from_numpy(a).double(), torch.from_numpy(b).double()
    k_mat, l_mat = a @ a.T, b @ b.T
    n = len(a)

    def mask(kernel):
        masked = kernel.clone().fill_diagonal_(-torch.inf)
        return torch.zeros(n, n, dtype=kernel.dtype).scatter_(1, masked.topk(k, dim=1).indices, 1)

    m_k, m_l = mask(k_mat), mask(l_mat)
    both = m_k * m_l
    h = al.hsic_unbiased
    own = h(m_k * k_mat, m_k * k_mat) * h(m_l * l_mat, m_l * l_mat)
    return float(h(both * k_mat, both * l_mat)) / (float(torch.sqrt(own)) + al.EPS)


def plain_mig(factors, codes, bins=20) -> float:
    """disentanglement_lib's way: histogram per code, sklearn's mutual_info_score per pair."""
    from sklearn.metrics import mutual_info_score

    binned = [np.digitize(c, np.histogram(c, bins)[1][:-1]) for c in codes.T]
    m = np.array([[mutual_info_score(f, c) for f in factors.T] for c in binned])
    h = np.array([mutual_info_score(f, f) for f in factors.T])
    top = -np.sort(-m, axis=0)
    return float(np.mean((top[0] - top[1]) / h))


def plain_modularity(factors, codes, bins=20) -> float:
    from sklearn.metrics import mutual_info_score

    binned = [np.digitize(c, np.histogram(c, bins)[1][:-1]) for c in codes.T]
    m = np.array([[mutual_info_score(f, c) for f in factors.T] for c in binned])
    squared = m**2
    theta = squared.max(axis=1)
    rest = squared.sum(axis=1) - theta
    return float(
        np.mean(np.where(theta > 0, 1 - rest / np.where(theta > 0, theta, 1) / (m.shape[1] - 1), 0))
    )


def disentanglement_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """10 factors × 10 values, 10 codes: a noisy, slightly mixed copy of the factors."""
    rng = np.random.default_rng(seed)
    factors = rng.integers(0, 10, size=(n, 10)).astype(float)
    mix = np.eye(10) + 0.2 * rng.normal(size=(10, 10))
    return factors, factors @ mix + rng.normal(size=(n, 10))


def plain_null(score: Callable, a, b, permutations: int, **kwargs) -> float:
    rng = np.random.default_rng(0)
    return float(
        np.mean([score(a, b[rng.permutation(len(b))], **kwargs) for _ in range(permutations)])
    )


# ---- measurement -----------------------------------------------------------------------------
def timed(function: Callable) -> tuple[float, object]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def compare(title: str, plain: Callable, ours: Callable, repeats: int) -> None:
    pairs, values = [], None
    for _ in range(repeats):
        t_plain, v_plain = timed(plain)
        t_ours, v_ours = timed(ours)
        pairs.append((t_plain, t_ours))
        values = (v_plain, v_ours)
    ratio = statistics.median(p / o for p, o in pairs)
    plain_s = statistics.median(p for p, _ in pairs)
    ours_s = statistics.median(o for _, o in pairs)
    agree = abs(float(values[0]) - float(values[1]))
    print(f"{title:<44} plain {plain_s:8.3f} s  ours {ours_s:8.3f} s  plain/ours {ratio:6.2f}"
          f"  |Δ| {agree:.1e}")  # fmt: skip


MEMORY_TARGETS: dict[str, Callable] = {
    "plain_mutual_knn": lambda a, b: plain_mutual_knn(a, b),
    "mutual_knn": lambda a, b: al.mutual_knn(a, b),
    "plain_cka": lambda a, b: plain_cka(a, b),
    "cka": lambda a, b: al.cka(a, b),
}


def peak_memory(target: str, n: int) -> float:
    """MiB a call adds to the resident set at its peak, measured in a fresh child process (its
    peak resident set minus its resident set once the inputs are built)."""
    command = [sys.executable, __file__, "--memory-of", target, str(n)]
    return float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def memory_child(target: str, n: int) -> None:
    torch.set_grad_enabled(False)
    a, b = features(n)
    MEMORY_TARGETS[target](a[:50], b[:50])  # warm up the libraries outside the measurement
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident set (VmHWM) to the current one
    start = status_mib("VmRSS")
    MEMORY_TARGETS[target](a, b)
    print(status_mib("VmHWM") - start)


def status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test (small, few repeats)")
    parser.add_argument("--memory-of", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of:
        memory_child(args.memory_of[0], int(args.memory_of[1]))
        return
    repeats = 2 if args.quick else 5
    n_knn, n_kernel, n_lists = (1500, 800, 300) if args.quick else (10_000, 4_000, 2_000)
    torch.set_grad_enabled(False)

    print(f"threads {torch.get_num_threads()}; median of {repeats} interleaved repeats")
    a, b = features(n_knn)
    compare(
        f"mutual_knn {n_knn} x 512, k 10",
        lambda: plain_mutual_knn(a, b),
        lambda: al.mutual_knn(a, b),
        repeats,
    )
    print(f"{'  peak memory (MiB)':<44} plain {peak_memory('plain_mutual_knn', n_knn):8.0f}"
          f"    ours {peak_memory('mutual_knn', n_knn):8.0f}")  # fmt: skip

    a, b = features(n_kernel)
    compare(f"cka {n_kernel} x 512", lambda: plain_cka(a, b), lambda: al.cka(a, b), repeats)
    compare(
        f"unbiased_cka {n_kernel} x 512",
        lambda: plain_cka(a, b, True),
        lambda: al.unbiased_cka(a, b),
        repeats,
    )
    print(f"{'  peak memory of cka (MiB)':<44} plain {peak_memory('plain_cka', n_kernel):8.0f}"
          f"    ours {peak_memory('cka', n_kernel):8.0f}")  # fmt: skip

    compare(f"cknna {n_kernel} x 512", lambda: plain_cknna(a, b), lambda: al.cknna(a, b), repeats)

    a, b = features(n_lists)
    compare(
        f"cycle_knn {n_lists} x 512",
        lambda: plain_lists(a, b, 10, "cycle"),
        lambda: al.cycle_knn(a, b),
        repeats,
    )
    compare(
        f"lcs_knn {n_lists} x 512",
        lambda: plain_lists(a, b, 10, "lcs"),
        lambda: al.lcs_knn(a, b),
        repeats,
    )
    compare(
        f"edit_distance_knn {n_lists} x 512",
        lambda: plain_lists(a, b, 10, "edit"),
        lambda: al.edit_distance_knn(a, b),
        repeats,
    )
    compare(f"svcca {n_lists} x 512", lambda: plain_svcca(a, b), lambda: al.svcca(a, b), repeats)

    n_null = 300 if args.quick else 1_000
    a, b = features(n_null, 64)
    perms = 20 if args.quick else 100
    for name, plain, ours in (
        ("mutual_knn", al.mutual_knn, al.mutual_knn),
        ("cka", plain_cka, al.cka),
    ):
        compare(
            f"{name} null, {perms} shuffles, {n_null} x 64",
            lambda p=plain: plain_null(p, a, b, perms),
            lambda o=ours: al.calibrate(o, a, b, permutations=perms).null_mean,
            repeats,
        )

    n_id = 10_000 if args.quick else 100_000
    rng = np.random.default_rng(0)
    z = rng.normal(size=(n_id, 64))
    h = z @ rng.normal(size=(64, 64)) + 0.1 * rng.normal(size=(n_id, 64))
    for name, score in (("mcc", mcc), ("linear_r2", linear_r2)):
        seconds = statistics.median(timed(lambda s=score: s(z, h))[0] for _ in range(repeats))
        print(f"{name} {n_id} x 64{'':<30} ours {seconds:8.3f} s")

    from identifiable.metrics import disentanglement as dis

    n_dis = 1_500 if args.quick else 15_000  # disentanglement_lib: 10 000 train + 5 000 test
    factors, codes = disentanglement_data(n_dis)
    print(f"disentanglement: {n_dis} rows (2/3 train), 10 factors x 10 values, 10 codes")
    compare("mig (plain: sklearn mutual_info_score)", lambda: plain_mig(factors, codes),
            lambda: dis.mig(factors, codes), repeats)  # fmt: skip
    train_f, train_c = factors[: 2 * n_dis // 3], codes[: 2 * n_dis // 3]
    compare(
        "modularity (plain: sklearn mutual_info_score)",
        lambda: plain_modularity(train_f, train_c),
        lambda: dis.modularity_from_mi(
            dis.discrete_mutual_info(dis.histogram_discretize(train_c, 20), train_f)
        ),
        repeats,
    )
    for name, function in (
        ("sap", dis.sap),
        ("dci", dis.dci),
        ("modularity_explicitness", dis.modularity_explicitness),
    ):
        seconds = statistics.median(
            timed(lambda f=function: f(factors, codes))[0]
            for _ in range(1 if name == "dci" else repeats)
        )
        print(
            f"{name + ' (one sklearn fit per factor/code, as upstream)':<44} ours {seconds:8.3f} s"
        )


if __name__ == "__main__":
    main()
