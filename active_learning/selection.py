"""Selection: turn a score per pool item into k positions.

``top_k`` takes the k highest scores, breaking ties with the given Generator. Scores of ``-inf``
mark ineligible items (e.g. already labeled by the maximum number of annotators) and are never
selected. The diversity selectors keep a batch from being k near-duplicates: both first keep the
``candidate_factor * k`` best-scoring items, then

* ``kmeans``: cluster the candidates (MiniBatchKMeans, min(k, 100) clusters) and take the
  best-scoring item of each cluster in turn (cluster-margin style, Citovsky et al. 2021);
* ``kcenter``: greedy core-set (k-center) over the candidates, starting from the best-scoring one
  and always adding the candidate farthest from everything chosen (and, optionally, labeled).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidInputError, UnknownNameError
from .validation import as_2d_float, check_k, check_rng, shape_of

Diversity = Literal["kmeans", "kcenter"]
DIVERSITY_METHODS: tuple[Diversity, ...] = ("kmeans", "kcenter")


def check_scores(scores: Any, n: int | None = None) -> NDArray[np.float64]:
    """Scores must be shape (n,), finite or -inf (ineligible); NaN and +inf are rejected."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1:
        raise InvalidInputError(f"scores must be 1-D (n,); got shape {shape_of(arr)}")
    if n is not None and arr.shape[0] != n:
        raise InvalidInputError(f"scores {shape_of(arr)} must have one entry per pool item (n={n})")
    if np.any(np.isnan(arr)) or np.any(arr == np.inf):
        raise InvalidInputError("scores must not contain NaN or +inf (use -inf for ineligible items)")
    return arr


def top_k(scores: Any, k: int, *, rng: np.random.Generator) -> NDArray[np.intp]:
    """Positions of the k highest scores (n,) -> (k,), best first; ties broken by ``rng``."""
    s = check_scores(scores)
    check_rng(rng)
    eligible = int(np.sum(np.isfinite(s)))
    k = check_k(k, s.shape[0], eligible=eligible)
    jitter = rng.random(s.shape[0])
    if k < s.shape[0]:
        kth = np.partition(s, s.shape[0] - k)[s.shape[0] - k]
        cand = np.nonzero(s >= kth)[0]
    else:
        cand = np.arange(s.shape[0])
    order = np.lexsort((jitter[cand], -s[cand]))
    picked: NDArray[np.intp] = cand[order[:k]].astype(np.intp)
    return picked


def _candidates(
    s: NDArray[np.float64], k: int, candidate_factor: float, rng: np.random.Generator
) -> NDArray[np.intp]:
    eligible = int(np.sum(np.isfinite(s)))
    m = min(eligible, max(k, int(np.ceil(candidate_factor * k))))
    return top_k(s, m, rng=rng)


def kmeans_top_k(
    scores: Any,
    features: Any,
    k: int,
    *,
    rng: np.random.Generator,
    candidate_factor: float = 10.0,
    max_clusters: int = 100,
) -> NDArray[np.intp]:
    """Cluster-balanced top-k. scores (n,), features (n, d) -> (k,) positions.

    The ``candidate_factor * k`` best candidates are clustered into ``c = min(k, max_clusters)``
    MiniBatchKMeans clusters; items are then taken round-robin: the best of every cluster, then
    the second best of every cluster, and so on. For k <= max_clusters that is one item per
    cluster. The cap keeps k-means cheap for big batches (k = 1,000 clusters on 10,000
    candidates costs minutes on 2 cores); use ``kcenter`` when a large batch must have no two
    close items at all.
    """
    from sklearn.cluster import MiniBatchKMeans  # type: ignore[import-untyped,unused-ignore]

    s = check_scores(scores)
    F = as_2d_float(features, "features")
    if F.shape[0] != s.shape[0]:
        raise InvalidInputError(
            f"features {shape_of(F)} and scores {shape_of(s)} must have the same number of rows"
        )
    if max_clusters < 1:
        raise InvalidInputError(f"max_clusters must be >= 1; got {max_clusters}")
    check_rng(rng)
    k = check_k(k, s.shape[0], eligible=int(np.sum(np.isfinite(s))))
    cand = _candidates(s, k, candidate_factor, rng)
    n_clusters = min(k, max_clusters)
    if cand.shape[0] <= k or n_clusters < 2:
        return cand[:k]
    Fc = np.asarray(F[np.sort(cand)], dtype=np.float32)[np.argsort(np.argsort(cand))]
    km = MiniBatchKMeans(
        n_clusters=n_clusters,
        random_state=int(rng.integers(2**31 - 1)),
        batch_size=2048,
        n_init=1,
        max_iter=20,
        max_no_improvement=3,
        # k-means++ seeding on sklearn's default 3 * batch_size sample dominated the cost (about
        # 15 s for 100 clusters on 10k x 384 on 2 busy cores); a smaller seeding sample keeps
        # k-means++'s property that matters here (one seed per tight blob) at a fraction.
        init_size=min(cand.shape[0], max(3 * n_clusters, 300)),
    )
    cluster = km.fit_predict(Fc)
    # cand is best-first; rank of each candidate inside its cluster (0 = the cluster's best).
    by_cluster = np.argsort(cluster, kind="stable")
    sorted_clusters = cluster[by_cluster]
    group_start = np.r_[0, np.nonzero(np.diff(sorted_clusters))[0] + 1]
    sizes = np.diff(np.r_[group_start, sorted_clusters.shape[0]])
    rank = np.empty(cand.shape[0], dtype=np.int64)
    rank[by_cluster] = np.arange(cand.shape[0]) - np.repeat(group_start, sizes)
    order = np.lexsort((np.arange(cand.shape[0]), rank))
    picked: NDArray[np.intp] = cand[order[:k]].astype(np.intp)
    return picked


def kcenter_top_k(
    scores: Any,
    features: Any,
    k: int,
    *,
    rng: np.random.Generator,
    candidate_factor: float = 10.0,
    labeled_features: Any = None,
) -> NDArray[np.intp]:
    """Greedy core-set among the top candidates. scores (n,), features (n, d),
    labeled_features (n_labeled, d) or None -> (k,) positions in pick order."""
    s = check_scores(scores)
    F = as_2d_float(features, "features")
    if F.shape[0] != s.shape[0]:
        raise InvalidInputError(
            f"features {shape_of(F)} and scores {shape_of(s)} must have the same number of rows"
        )
    check_rng(rng)
    k = check_k(k, s.shape[0], eligible=int(np.sum(np.isfinite(s))))
    cand = _candidates(s, k, candidate_factor, rng)
    Fc = np.asarray(F[np.sort(cand)], dtype=np.float32)[np.argsort(np.argsort(cand))]
    sq = np.einsum("ij,ij->i", Fc, Fc)
    min_d: NDArray[np.float32] = np.full(cand.shape[0], np.inf, dtype=np.float32)
    if labeled_features is not None:
        L = as_2d_float(labeled_features, "labeled_features", allow_empty=True)
        if L.shape[0] and L.shape[1] != Fc.shape[1]:
            raise InvalidInputError(
                f"labeled_features {shape_of(L)} must have {Fc.shape[1]} columns like features"
            )
        if L.shape[0]:
            min_d = _min_sq_dist(Fc, sq, np.asarray(L, dtype=np.float32))
    picked = np.empty(k, dtype=np.intp)
    taken = np.zeros(cand.shape[0], dtype=bool)
    for i in range(k):
        if i == 0 and not np.isfinite(min_d).all():
            j = 0  # best-scoring candidate
        else:
            d = np.where(taken, -1.0, min_d)
            j = int(np.argmax(d))
        picked[i] = j
        taken[j] = True
        diff = sq + sq[j] - 2.0 * (Fc @ Fc[j])
        np.minimum(min_d, np.maximum(diff, 0.0), out=min_d)
    return cand[picked].astype(np.intp)


def _min_sq_dist(
    A: NDArray[np.float32], a_sq: NDArray[np.float32], B: NDArray[np.float32], block: int = 4096
) -> NDArray[np.float32]:
    """Squared distance from each row of A (n, d) to its nearest row of B (m, d) -> (n,)."""
    b_sq = np.einsum("ij,ij->i", B, B)
    out = np.full(A.shape[0], np.inf, dtype=np.float32)
    for start in range(0, B.shape[0], block):
        Bb = B[start : start + block]
        d = a_sq[:, None] + b_sq[None, start : start + block] - 2.0 * (A @ Bb.T)
        np.minimum(out, np.maximum(d.min(axis=1), 0.0), out=out)
    return out


def nearest_labeled_distance(
    features: Any, labeled_features: Any, block_rows: int = 65536
) -> NDArray[np.float64]:
    """Euclidean distance from each pool row (n, d) to its nearest labeled row (m, d) -> (n,).

    Computed in row blocks (float32) so large pools are not materialised as an (n, m) matrix.
    """
    F = as_2d_float(features, "features")
    L = np.asarray(as_2d_float(labeled_features, "labeled_features"), dtype=np.float32)
    if L.shape[1] != F.shape[1]:
        raise InvalidInputError(
            f"labeled_features {shape_of(L)} must have {F.shape[1]} columns like features {shape_of(F)}"
        )
    out = np.empty(F.shape[0], dtype=np.float64)
    for start in range(0, F.shape[0], block_rows):
        A = np.asarray(F[start : start + block_rows], dtype=np.float32)
        out[start : start + block_rows] = np.sqrt(_min_sq_dist(A, np.einsum("ij,ij->i", A, A), L))
    return out


def diverse_top_k(
    scores: Any,
    features: Any,
    k: int,
    *,
    rng: np.random.Generator,
    method: Diversity = "kmeans",
    candidate_factor: float = 10.0,
    labeled_features: Any = None,
) -> NDArray[np.intp]:
    """Dispatch to :func:`kmeans_top_k` or :func:`kcenter_top_k` by name. -> (k,) positions."""
    if method == "kmeans":
        return kmeans_top_k(scores, features, k, rng=rng, candidate_factor=candidate_factor)
    if method == "kcenter":
        return kcenter_top_k(
            scores, features, k, rng=rng, candidate_factor=candidate_factor, labeled_features=labeled_features
        )
    raise UnknownNameError("diversity method", str(method), list(DIVERSITY_METHODS))
