"""Monte Carlo for sums of correlated integer outcomes (combos: PRA, rush + receiving yards).

Each component of a row has an exact integer pmf (``distributions.Grid``); components are
joined by a Gaussian copula with a correlation matrix shared by the batch. One batch draws
``n_sims`` correlated uniforms per component from a seeded ``numpy.random.Generator`` and uses
them for every row (common random numbers): every row gets ``n_sims`` exact draws from its own
joint law, and the board prices the same from poll to poll instead of jittering. The rows'
errors are correlated with each other, which does not matter for pricing them one by one.

Inverse-CDF sampling without a per-draw search: with the uniforms sorted once, the number of
sorted draws at or below each grid CDF value (one ``searchsorted``) gives, by a cumulative sum,
every row's sorted sample; a gather puts it back in draw order, the components are added and
a ``bincount`` turns each row's sums into an empirical pmf (a ``Grid``). Rows are processed
in chunks so memory stays bounded.

    simulate_sum(components, corr, n_sims=10_000, seed=0, chunk_rows=512) -> Grid
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import special as sp

from propsage.pricing.distributions import Grid


def correlated_uniforms(corr: npt.ArrayLike, n_sims: int, seed: int | np.random.Generator = 0
                        ) -> npt.NDArray[np.float64]:
    """(components, n_sims) uniforms with a Gaussian copula of correlation ``corr``."""
    c = np.atleast_2d(np.asarray(corr, dtype=float))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    z = rng.standard_normal((c.shape[0], n_sims))
    return sp.ndtr(np.linalg.cholesky(c) @ z)


def _sorted_sample(grid: Grid, rows: slice, u_sorted: npt.NDArray[np.float64]
                   ) -> npt.NDArray[np.int32]:
    """Each row's draws at the sorted uniforms, as offsets from the row's ``lo``."""
    cdf = np.cumsum(grid.pmf[rows], axis=1)
    cdf[:, -1] = 1.0
    n, s = cdf.shape[0], len(u_sorted)
    # cuts[r, k] = how many sorted draws have U <= F_r(k); draw j exceeds k iff j >= cuts.
    cuts = np.searchsorted(u_sorted, cdf.ravel(), side="right")
    marks = np.bincount(cuts + np.repeat(np.arange(n) * (s + 1), cdf.shape[1]),
                        minlength=n * (s + 1)).reshape(n, s + 1)[:, :s]
    return np.cumsum(marks, axis=1, dtype=np.int32)


def simulate_sum(components: Sequence[Grid], corr: npt.ArrayLike, *, n_sims: int = 10_000,
                 seed: int | np.random.Generator = 0, chunk_rows: int = 512) -> Grid:
    """Empirical pmf (as a Grid) of the sum of each row's correlated components."""
    n_rows = len(components[0].lo)
    u = correlated_uniforms(corr, n_sims, seed)
    order = [np.argsort(ui) for ui in u]
    u_sorted = [ui[o] for ui, o in zip(u, order, strict=True)]
    # Work in the draw order that sorts component 0; gather[i] maps it to component i's ranks.
    gather = []
    for o in order:
        rank = np.empty(n_sims, dtype=np.int64)
        rank[o] = np.arange(n_sims)
        gather.append(rank[order[0]])
    width = sum(g.pmf.shape[1] - 1 for g in components) + 1
    lo = np.sum([g.lo for g in components], axis=0).astype(np.int64)
    pmf = np.empty((n_rows, width))
    for start in range(0, n_rows, chunk_rows):
        rows = slice(start, min(start + chunk_rows, n_rows))
        total = _sorted_sample(components[0], rows, u_sorted[0])
        for i in range(1, len(components)):
            total += _sorted_sample(components[i], rows, u_sorted[i])[:, gather[i]]
        n = total.shape[0]
        counts = np.bincount((total + (np.arange(n, dtype=np.int32) * width)[:, None]).ravel(),
                             minlength=n * width)
        pmf[rows] = counts.reshape(n, width) / n_sims
    return Grid(lo=lo, pmf=pmf)


def mc_standard_error(p: npt.ArrayLike, n_sims: int) -> npt.NDArray[np.float64]:
    """Binomial standard error of a simulated probability."""
    p = np.asarray(p, dtype=float)
    return np.sqrt(np.clip(p * (1 - p), 0.0, None) / n_sims)
