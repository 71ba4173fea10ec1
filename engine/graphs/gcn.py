r"""Graph convolution from the graph Fourier basis to ChebNet, Kipf & Welling's GCN and the spatial view.

The normalised Laplacian and its eigendecomposition

$$L = I - D^{-1/2} A D^{-1/2} = U \Lambda U^\top,\qquad 0 = \lambda_0 \le \dots \le \lambda_{N-1} \le 2$$

give the graph Fourier transform $\hat x = U^\top x$ and the spectral convolution $g_\theta \star x = U g_\theta(\Lambda)
U^\top x$. ChebNet replaces $g_\theta$ by a Chebyshev polynomial of $\tilde L = 2L/\lambda_{max} - I$, GCN keeps
$K = 1$, sets $\lambda_{max} = 2$ and renormalises: $H' = \sigma(\hat A H W)$ with $\hat A = \tilde D^{-1/2}(A + I)
\tilde D^{-1/2}$.

References
----------
Shuman et al., "The emerging field of signal processing on graphs", IEEE SPM 2013 (Eq. 4-6: GFT, filtering).
Hammond, Vandergheynst, Gribonval, "Wavelets on graphs via spectral graph theory", ACHA 2011 (Sec. 6, Chebyshev).
Defferrard, Bresson, Vandergheynst, "Convolutional Neural Networks on Graphs with Fast Localized Spectral
Filtering", NeurIPS 2016 (Eq. 4-5).
Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017 (Eq. 2, 4-8).
Hamilton, Ying, Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017 (Alg. 1, mean
aggregator).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import scipy.sparse as sp

from engine.common import optim

GRAPHS = ("karate", "minnesota", "grid", "upload")
FILTERS = ("low_pass", "high_pass", "heat")
SIGNALS = ("smooth", "noisy_smooth", "impulse", "random", "painted")
MAX_EDGES = 20_000        # edges accepted from an uploaded list (dense eigendecomposition stays a few seconds)
MAX_NODES = 3_000         # nodes accepted from an uploaded list
MAX_ROWS = 200_000        # lines read from an uploaded file before giving up
GRID_SIDE = 24            # the image-as-a-graph: GRID_SIDE × GRID_SIDE pixels, 4-neighbour edges


# ------------------------------------------------------------------------------------------------ graphs

@dataclass(frozen=True)
class Graph:
    """An undirected simple graph with drawing coordinates."""
    name: str
    A: sp.csr_matrix = field(repr=False)        # (N, N) symmetric 0/1 adjacency, no self-loops
    coords: np.ndarray = field(repr=False)      # (N, 2) drawing positions
    labels: np.ndarray | None = field(default=None, repr=False)   # (N,) int classes (karate: the club split)
    node_ids: tuple = ()                        # original ids (uploads: int or str labels), else empty
    notes: tuple[tuple[str, int], ...] = ()     # what the loader dropped or merged: (reason, count)
    issues: tuple[tuple[int, str, str], ...] = ()   # lines the loader skipped: (line number, reason, text)

    @property
    def N(self) -> int:
        return self.A.shape[0]

    @property
    def E(self) -> int:
        return int(self.A.nnz // 2)

    @property
    def edges(self) -> np.ndarray:
        """(E, 2) node pairs i < j."""
        u = sp.triu(self.A, 1).tocoo()
        return np.stack([u.row, u.col], 1)


def _from_edges(name: str, n: int, edges: np.ndarray, coords: np.ndarray, **kw) -> Graph:
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    A = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    A = ((A + A.T) > 0).astype(np.float64).tocsr()
    A.setdiag(0)
    A.eliminate_zeros()
    return Graph(name, A, np.asarray(coords, dtype=np.float64), **kw)


def karate() -> Graph:
    """Zachary's karate club (34 members, 78 ties); labels: 0 = Mr. Hi's club, 1 = the Officer's."""
    import networkx as nx

    G = nx.karate_club_graph()
    pos = nx.spring_layout(G, seed=3)
    coords = np.array([pos[i] for i in range(G.number_of_nodes())])
    labels = np.array([int(G.nodes[i]["club"] == "Officer") for i in G.nodes])
    return _from_edges("karate", G.number_of_nodes(), np.array(G.edges()), coords, labels=labels)


def minnesota() -> Graph:
    """The Minnesota road network shipped with pygsp (2 642 intersections, 3 304 roads)."""
    from pygsp import graphs

    G = graphs.Minnesota(connected=True)
    W = sp.csr_matrix(G.W)
    u = sp.triu(W, 1).tocoo()
    return _from_edges("minnesota", G.N, np.stack([u.row, u.col], 1), np.asarray(G.coords))


def grid(side: int = GRID_SIDE) -> Graph:
    """An image as a graph: one node per pixel (row-major), edges to the 4 neighbours."""
    idx = np.arange(side * side).reshape(side, side)
    edges = np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
                            np.stack([idx[:-1].ravel(), idx[1:].ravel()], 1)])
    r, c = np.divmod(np.arange(side * side), side)
    return _from_edges("grid", side * side, edges, np.stack([c, -r], 1).astype(float))


def load(name: str) -> Graph:
    """One of the built-in graphs by name."""
    return {"karate": karate, "minnesota": minnesota, "grid": grid}[name]()


class GraphError(ValueError):
    """An uploaded edge list the page cannot use: `code` is a key of locales/gcn.toml's `csv` table, `params` its
    numbers (translated by the page)."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code}: {params}")
        self.code, self.params = code, params


HEADER_WORDS = {"source", "target", "src", "dst", "from", "to", "u", "v", "node1", "node2", "id1", "id2", "a", "b",
                "head", "tail", "start", "end", "始点", "終点", "元", "先", "ノード1", "ノード2"}
MAX_ID_CHARS = 100        # a longer field is not an id (a pasted paragraph?)


def _fields(line: str) -> list[str]:
    """The fields of one line: split on commas, semicolons or tabs when it has any (a field may then hold spaces,
    and CSV quotes are understood), else on blanks (ASCII and the ideographic space)."""
    import csv
    delimiter = next((d for d in (",", ";", "\t", "，", "；") if d in line), None)
    if delimiter is None:
        return line.split()
    if delimiter in "，；":
        line, delimiter = line.replace(delimiter, ","), ","
    return [f.strip() for f in next(csv.reader([line], delimiter=delimiter))]


def parse_edge_list(text: str) -> Graph:
    """A graph from CSV text, one `source,target` pair per line (commas, semicolons, tabs or blanks between them).

    Node ids are **labels**: any integer (of any size, read exactly, never through float: 64-bit user ids stay
    distinct) or any text (`alice`, `東京`); full-width digits and letters count as their ASCII forms, a byte-order mark
    is ignored. They are renumbered 0 … N−1 — **in increasing numeric order when every id is an integer** (so a list
    that already uses 0 … N−1 keeps its numbers), **else in order of first appearance** — and kept in `node_ids`.
    A first line whose two fields are header words (`source,target`, `from,to`, `始点,終点`, …), or that has text
    where every later line has integers, is a header and skipped.

    Reported in `notes` (reason, count): the header, extra columns (ignored), self-loops (dropped), duplicate edges in
    either direction (merged), disconnected parts (only the largest is kept). Reported in `issues` (line, reason,
    text) and skipped: a line with one field, an empty id, an id over `MAX_ID_CHARS` characters. Raises GraphError
    ("too_many_lines", "too_many_edges", "too_many_nodes", "no_edge", "too_small", "nothing_usable")."""
    from engine.common.text import is_integer, lines, normalize_label, parse_int

    rows: list[tuple[int, str, str]] = []
    issues: list[tuple[int, str, str]] = []
    notes: dict[str, int] = {}
    first = True
    for number, line in lines(text):
        if number > MAX_ROWS:
            raise GraphError("too_many_lines", limit=MAX_ROWS)
        fields = _fields(normalize_label(line))
        if not fields or (len(fields) == 1 and not fields[0]):
            continue
        shown = line.strip()[:60]
        if len(fields) < 2:
            issues.append((number, "one_field", shown))
            continue
        a, b = fields[0], fields[1]
        if not a or not b:
            issues.append((number, "empty_id", shown))
            continue
        if len(a) > MAX_ID_CHARS or len(b) > MAX_ID_CHARS:
            issues.append((number, "long_id", shown))
            continue
        if first and {a.lower(), b.lower()} <= HEADER_WORDS:
            notes["header"] = 1
            first = False
            continue
        first = False
        if len(fields) > 2:
            notes["extra_columns"] = notes.get("extra_columns", 0) + 1
        rows.append((number, a, b))
        if len(rows) > MAX_EDGES * 2:
            raise GraphError("too_many_edges", limit=MAX_EDGES)
    # a first line of text above lines of integers is a header too
    if len(rows) > 1 and not (is_integer(rows[0][1]) and is_integer(rows[0][2])) and \
            all(is_integer(a) and is_integer(b) for _, a, b in rows[1:]):
        rows = rows[1:]
        notes["header"] = 1
    if not rows:
        raise GraphError("nothing_usable", issues=len(issues), line=issues[0][0] if issues else 0)
    numeric = all(is_integer(a) and is_integer(b) for _, a, b in rows)
    key = parse_int if numeric else (lambda s: s)
    ids_seen: dict = {}
    for _, a, b in rows:
        for s in (a, b):
            ids_seen.setdefault(key(s), None)
    ids = sorted(ids_seen) if numeric else list(ids_seen)
    index = {v: i for i, v in enumerate(ids)}
    e = np.array([(index[key(a)], index[key(b)]) for _, a, b in rows], dtype=np.int64).reshape(-1, 2)
    loops = e[:, 0] == e[:, 1]
    if loops.any():
        notes["self_loops"] = int(loops.sum())
    e = np.sort(e[~loops], axis=1)
    uniq = np.unique(e, axis=0)
    if len(uniq) < len(e):
        notes["duplicates"] = int(len(e) - len(uniq))
    if len(uniq) == 0:
        raise GraphError("no_edge")
    if len(uniq) > MAX_EDGES:
        raise GraphError("too_many_edges", limit=MAX_EDGES)
    used, e = np.unique(uniq, return_inverse=True)          # ids that only had self-loops drop out
    e = e.reshape(-1, 2)
    ids = [ids[i] for i in used]
    if len(ids) > MAX_NODES:
        raise GraphError("too_many_nodes", limit=MAX_NODES)
    n = len(ids)
    A = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    ncomp, comp = sp.csgraph.connected_components(A, directed=False)
    if ncomp > 1:
        keep_label = np.bincount(comp).argmax()
        keep = np.flatnonzero(comp == keep_label)
        notes["other_components"] = int(ncomp - 1)
        notes["dropped_nodes"] = int(n - len(keep))
        remap = -np.ones(n, np.int64)
        remap[keep] = np.arange(len(keep))
        e = remap[e]
        e = e[(e >= 0).all(1)]
        ids, n = [ids[i] for i in keep], len(keep)
    if n < 3:
        raise GraphError("too_small", n=n)
    g = _from_edges("upload", n, e, np.zeros((n, 2)), node_ids=tuple(ids), notes=tuple(sorted(notes.items())))
    return Graph(g.name, g.A, spectral_layout(g.A), node_ids=g.node_ids, notes=g.notes, issues=tuple(issues))


def spectral_layout(A: sp.spmatrix) -> np.ndarray:
    """Drawing positions (N, 2) from the 2nd and 3rd eigenvectors of the random-walk Laplacian, spread by a few
    rounds of neighbour repulsion-free smoothing (a cheap, deterministic layout for uploaded graphs)."""
    import networkx as nx

    G = nx.from_scipy_sparse_array(A)
    pos = nx.spring_layout(G, seed=0, iterations=30 if A.shape[0] > 500 else 50)
    return np.array([pos[i] for i in range(A.shape[0])])


# ------------------------------------------------------------------------------------------------ spectrum

def normalized_laplacian(A: sp.spmatrix) -> sp.csr_matrix:
    r"""$L = I - D^{-1/2} A D^{-1/2}$ (Kipf & Welling Eq. 3; networkx's `normalized_laplacian_matrix`); a node of
    degree 0 gets a 0 row."""
    d = np.asarray(A.sum(1)).ravel()                                   # (N,)
    dinv = np.where(d > 0, 1 / np.sqrt(np.maximum(d, 1e-300)), 0.0)
    # L = I − D^{-1/2} A D^{-1/2}
    L = sp.diags((d > 0).astype(np.float64)) - sp.diags(dinv) @ A @ sp.diags(dinv)
    return sp.csr_matrix(L)


@dataclass(frozen=True)
class Spectrum:
    """The eigendecomposition of a graph's normalised Laplacian."""
    lam: np.ndarray = field(repr=False)       # (N,) eigenvalues, ascending, in [0, 2]
    U: np.ndarray = field(repr=False)         # (N, N) eigenvectors in columns (orthonormal)
    seconds: float = 0.0                      # time of the dense eigendecomposition, O(N³)

    @property
    def lmax(self) -> float:
        return float(self.lam[-1])


def spectrum(g: Graph) -> Spectrum:
    r"""$L = U\Lambda U^\top$ by a dense symmetric eigendecomposition (LAPACK `syevd`: $O(N^3)$ time, $O(N^2)$ memory).
    Each eigenvector's sign is fixed (largest-|entry| positive) so drawings do not flip between runs."""
    L = normalized_laplacian(g.A).toarray()                            # (N, N)
    t0 = time.perf_counter()
    lam, U = np.linalg.eigh(L)                                         # (N,), (N, N)
    secs = time.perf_counter() - t0
    flip = np.sign(U[np.abs(U).argmax(0), np.arange(U.shape[1])])
    U = U * np.where(flip == 0, 1, flip)
    return Spectrum(np.clip(lam, 0.0, 2.0), U, secs)


def response(kind: str, lam: np.ndarray, param: float) -> np.ndarray:
    r"""Filter responses $g(\lambda)$: low-pass $1/(1+(\lambda/\lambda_c)^4)$, high-pass $1-$ that, heat kernel
    $e^{-\tau\lambda}$ (param: the cut-off $\lambda_c$ or $\tau$)."""
    lam = np.asarray(lam, dtype=float)
    if kind == "low_pass":
        return 1.0 / (1.0 + (lam / max(param, 1e-6)) ** 4)
    if kind == "high_pass":
        return 1.0 - 1.0 / (1.0 + (lam / max(param, 1e-6)) ** 4)
    if kind == "heat":
        return np.exp(-param * lam)
    raise ValueError(f"unknown filter {kind!r}")


@dataclass(frozen=True)
class Filtered:
    """One signal through one spectral filter."""
    x: np.ndarray = field(repr=False)         # (N,) the signal
    x_hat: np.ndarray = field(repr=False)     # (N,) its graph Fourier transform Uᵀx
    g: np.ndarray = field(repr=False)         # (N,) the filter g_θ(λ_i) at every eigenvalue
    y: np.ndarray = field(repr=False)         # (N,) U g_θ Uᵀ x
    y_hat: np.ndarray = field(repr=False)     # (N,) g_θ ⊙ Uᵀx
    smoothness_x: float = 0.0                 # xᵀLx / xᵀx (Rayleigh quotient: 0 = constant, 2 = most oscillating)
    smoothness_y: float = 0.0


def gft(spec: Spectrum, x: np.ndarray) -> np.ndarray:
    r"""The graph Fourier transform $\hat x = U^\top x$ (Shuman et al. Eq. 4)."""
    return spec.U.T @ x                                               # (N,)


def spectral_filter(spec: Spectrum, x: np.ndarray, kind: str, param: float) -> Filtered:
    r"""$y = U g_\theta(\Lambda) U^\top x$: the convolution theorem on a graph (the GFT of the convolution is the
    product of the GFTs). Applying U costs $O(N^2)$ per signal once the $O(N^3)$ eigendecomposition is cached."""
    x = np.asarray(x, dtype=float)
    x_hat = gft(spec, x)                                              # (N,)
    g = response(kind, spec.lam, param)                               # (N,)
    # y = U g_θ(Λ) Uᵀ x
    y = spec.U @ (g * x_hat)                                          # (N,)
    return Filtered(x, x_hat, g, y, g * x_hat, _rayleigh(spec, x_hat), _rayleigh(spec, g * x_hat))


def _rayleigh(spec: Spectrum, x_hat: np.ndarray) -> float:
    # xᵀLx / xᵀx = Σ λ_i x̂_i² / Σ x̂_i²
    den = float(x_hat @ x_hat)
    return float(spec.lam @ (x_hat ** 2) / den) if den > 0 else 0.0


def signal(g: Graph, spec: Spectrum, kind: str, node: int = 0, painted: tuple[int, ...] = (),
           seed: int = 0) -> np.ndarray:
    """A signal on the nodes (N,): 'smooth' (the sum of eigenvectors 1 and 2, or the image for the grid),
    'noisy_smooth' (that plus noise), 'impulse' (1 at `node`), 'random' (white noise), 'painted' (1 on the
    chosen nodes)."""
    rng = np.random.default_rng(seed)
    N = g.N
    if kind == "impulse":
        x = np.zeros(N)
        x[int(node) % N] = 1.0
        return x
    if kind == "painted":
        x = np.zeros(N)
        x[[int(i) for i in painted if 0 <= int(i) < N]] = 1.0
        return x
    if kind == "random":
        return rng.standard_normal(N)
    if g.name == "grid":
        smooth = _image(int(round(np.sqrt(N))))
    else:
        smooth = spec.U[:, 1] + spec.U[:, 2] if N > 2 else spec.U[:, -1]
        smooth = smooth / (np.abs(smooth).max() + 1e-12)
    if kind == "smooth":
        return smooth
    if kind == "noisy_smooth":
        return smooth + 0.5 * rng.standard_normal(N) * smooth.std()
    raise ValueError(f"unknown signal {kind!r}")


def _image(side: int) -> np.ndarray:
    """scikit-image's camera photo, downsampled to side × side, in [0, 1], row-major (N,)."""
    from skimage import data
    from skimage.transform import resize

    img = resize(data.camera().astype(float) / 255, (side, side), anti_aliasing=True)
    return img.ravel()


# ------------------------------------------------------------------------------------------------ ChebNet

def cheb_coeffs(kind: str, param: float, K: int, lmax: float) -> np.ndarray:
    r"""Chebyshev coefficients $c_0..c_K$ of $g$ on $[0, \lambda_{max}]$ by interpolation at the $K+1$ Chebyshev
    nodes (Hammond et al. Sec. 6; pygsp's `compute_cheby_coeff`):
    $c_k = \frac{2}{M}\sum_{j=1}^{M} g\big(\tfrac{\lambda_{max}}{2}(\cos\theta_j + 1)\big)\cos k\theta_j$,
    $\theta_j = \pi (j - \tfrac12)/M$, $M = K + 1$."""
    M = K + 1
    theta = np.pi * (np.arange(1, M + 1) - 0.5) / M                    # (M,)
    gv = response(kind, lmax / 2 * (np.cos(theta) + 1), param)        # (M,)
    return np.array([2 / M * gv @ np.cos(k * theta) for k in range(K + 1)])


def cheb_filter(L: sp.spmatrix, x: np.ndarray, c: np.ndarray, lmax: float) -> np.ndarray:
    r"""$y = \tfrac{c_0}{2}T_0(\tilde L)x + \sum_{k\ge1} c_k T_k(\tilde L)x$ with $\tilde L = 2L/\lambda_{max} - I$,
    $T_0 x = x$, $T_1 x = \tilde L x$, $T_k x = 2\tilde L T_{k-1}x - T_{k-2}x$ (Defferrard et al. Eq. 4-5): K sparse
    products, $O(KE)$, no eigenvectors."""
    x = np.asarray(x, dtype=float)
    Lt = (2.0 / lmax) * L - sp.identity(L.shape[0], format="csr")   # (N, N) L̃ = 2L/λ_max − I
    t_prev, t_cur = x, Lt @ x                                        # T_0 x, T_1 x
    y = 0.5 * c[0] * t_prev + (c[1] * t_cur if len(c) > 1 else 0)
    for k in range(2, len(c)):
        # T_k = 2 L̃ T_{k−1} − T_{k−2}
        t_prev, t_cur = t_cur, 2 * (Lt @ t_cur) - t_prev
        y = y + c[k] * t_cur
    return y


@dataclass(frozen=True)
class ChebResult:
    """Chebyshev approximation of a filter against the exact one."""
    K: int
    lmax: float
    coeffs: np.ndarray = field(repr=False)    # (K+1,)
    lam_grid: np.ndarray = field(repr=False)  # (G,) λ in [0, λ_max]
    exact_curve: np.ndarray = field(repr=False)   # (G,) g(λ)
    cheb_curve: np.ndarray = field(repr=False)    # (G,) the degree-K polynomial
    y_exact: np.ndarray = field(repr=False)   # (N,) U g Uᵀ x
    y_cheb: np.ndarray = field(repr=False)    # (N,) Σ c_k T_k(L̃) x
    rel_error: float = 0.0                    # ‖y_cheb − y_exact‖ / ‖y_exact‖
    cheb_seconds: float = 0.0                 # time of the K sparse products
    apply_u_seconds: float = 0.0              # time of U g Uᵀ x given U (two dense N×N products)


def chebyshev(g: Graph, spec: Spectrum, x: np.ndarray, kind: str, param: float, K: int) -> ChebResult:
    """Chebyshev filtering of x with order K against the exact spectral filter, with both timings."""
    lmax = spec.lmax
    c = cheb_coeffs(kind, param, K, lmax)
    L = normalized_laplacian(g.A)
    t0 = time.perf_counter()
    y_cheb = cheb_filter(L, x, c, lmax)
    t1 = time.perf_counter()
    y_exact = spectral_filter(spec, x, kind, param).y
    t2 = time.perf_counter()
    grid_l = np.linspace(0, lmax, 101)
    Tg = np.cos(np.outer(np.arange(K + 1), np.arccos(np.clip(2 * grid_l / lmax - 1, -1, 1))))  # (K+1, G)
    curve = 0.5 * c[0] * Tg[0] + c[1:] @ Tg[1:]
    err = float(np.linalg.norm(y_cheb - y_exact) / max(np.linalg.norm(y_exact), 1e-12))
    return ChebResult(K, lmax, c, grid_l, response(kind, grid_l, param), curve, y_exact, y_cheb, err, t1 - t0, t2 - t1)


@dataclass(frozen=True)
class Spread:
    """An impulse pushed through T_0..T_K of L̃: where each order reaches."""
    node: int
    hops: np.ndarray = field(repr=False)       # (N,) BFS hop distance from node (−1: unreachable)
    reach: np.ndarray = field(repr=False)      # (K+1, N) bool: T_k(L̃) δ ≠ 0
    values: np.ndarray = field(repr=False)     # (K+1, N) T_k(L̃) δ
    max_hop: np.ndarray = field(repr=False)    # (K+1,) farthest hop reached by order k


def impulse_spread(g: Graph, node: int, K: int, lmax: float = 2.0) -> Spread:
    r"""$T_k(\tilde L)\delta_v$ for $k = 0..K$: a polynomial of degree k in L touches exactly the nodes within k hops
    of v (Hammond et al. Lemma 5.2), so order k reaches one hop further than order k − 1."""
    import scipy.sparse.csgraph as csg

    N = g.N
    node = int(node) % N
    L = normalized_laplacian(g.A)
    Lt = (2.0 / lmax) * L - sp.identity(N, format="csr")
    delta = np.zeros(N)
    delta[node] = 1.0
    vals = [delta, Lt @ delta]
    for _ in range(2, K + 1):
        vals.append(2 * (Lt @ vals[-1]) - vals[-2])
    vals = np.array(vals[:K + 1])                                     # (K+1, N)
    hops = csg.shortest_path(g.A, unweighted=True, indices=node)
    hops = np.where(np.isfinite(hops), hops, -1).astype(int)
    # exact zeros: cancellations with floats are below 1e-12 in practice; the support is the k-hop ball
    reach = np.abs(vals) > 1e-12
    max_hop = np.array([hops[r].max() if r.any() else 0 for r in reach])
    return Spread(node, hops, reach, vals, max_hop)


# ------------------------------------------------------------------------------------------------ layers

def gcn_norm(A: sp.spmatrix) -> sp.csr_matrix:
    r"""The renormalisation trick $\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}$, $\tilde D_{ii} = \sum_j (A+I)_{ij}$
    (Kipf & Welling Eq. 8)."""
    At = sp.csr_matrix(A) + sp.identity(A.shape[0], format="csr")   # (N, N) A + I
    d = np.asarray(At.sum(1)).ravel()
    Dm = sp.diags(1 / np.sqrt(d))
    return sp.csr_matrix(Dm @ At @ Dm)


def gcn_layer(A_hat: sp.spmatrix, H: np.ndarray, W: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    r"""One GCN layer before the non-linearity, $\hat A H W + b$ (Kipf & Welling Eq. 2; `GCNConv`)."""
    out = A_hat @ (H @ W)                                              # (N, F')
    return out + b if b is not None else out


def cheb_conv(A: sp.spmatrix, X: np.ndarray, thetas: list[np.ndarray], lmax: float = 2.0,
              b: np.ndarray | None = None) -> np.ndarray:
    r"""ChebNet's layer $\sum_{k=0}^{K-1} T_k(\tilde L) X \Theta_k + b$, $\tilde L = 2L/\lambda_{max} - I$
    (Defferrard et al. Eq. 5; `ChebConv` with K = len(thetas), normalization "sym", λ_max = 2 by default)."""
    L = normalized_laplacian(A)
    Lt = (2.0 / lmax) * L - sp.identity(A.shape[0], format="csr")
    Tx = [X, Lt @ X]
    for _ in range(2, len(thetas)):
        Tx.append(2 * (Lt @ Tx[-1]) - Tx[-2])
    out = sum(t @ th for t, th in zip(Tx, thetas))                    # (N, F')
    return out + b if b is not None else out


def mean_aggregate(A: sp.spmatrix, x: np.ndarray, include_self: bool = True) -> np.ndarray:
    r"""Neighbourhood averaging $x'_v = \frac{1}{|\mathcal N(v)|+1}(x_v + \sum_{u\in\mathcal N(v)} x_u)$ (the course
    notes' $93.8\times\frac13 + 102.4\times\frac13 + 96.7\times\frac13$)."""
    M = sp.csr_matrix(A) + sp.identity(A.shape[0], format="csr") if include_self else sp.csr_matrix(A)
    d = np.asarray(M.sum(1)).ravel()
    return (M @ x) / np.where(d > 0, d, 1)[:, None] if x.ndim == 2 else (M @ x) / np.where(d > 0, d, 1)


def sage_layer(A: sp.spmatrix, H: np.ndarray, W_self: np.ndarray, W_neigh: np.ndarray,
               b: np.ndarray | None = None) -> np.ndarray:
    r"""GraphSAGE with the mean aggregator, before σ: $h'_v = W_{self} h_v + W_{neigh}\,
    \mathrm{mean}_{u\in\mathcal N(v)} h_u + b$ (Hamilton et al. Alg. 1 with the concatenation written as two
    matrices; `SAGEConv`: lin_r on the root, lin_l on the mean)."""
    agg = mean_aggregate(A, H, include_self=False)                    # (N, F)
    out = H @ W_self + agg @ W_neigh                                  # (N, F')
    return out + b if b is not None else out


@dataclass(frozen=True)
class Conv1D:
    """The course notes' 1-D example $y_m = \\sum_n f(n) g(m, n)$, computed for the m where every tap exists."""
    f: np.ndarray                  # (5,)
    taps: dict                     # {m − n: weight}
    y: np.ndarray                  # (5,) nan where a tap falls outside f
    terms: tuple                   # per valid m: ((f(n), g, n), ...)


def conv1d_example(f=(0, 2, 4, 6, 8), taps=None) -> Conv1D:
    r"""$y_m = \sum_n f(n)\,g(m,n)$ with $g(m,n) = 1, 3, 5$ for $m-n = 1, 0, -1$ (001's example, corrected:
    $y = (-, 26, 44, 62, -)$, and the first value belongs to m = 1)."""
    taps = {1: 1, 0: 3, -1: 5} if taps is None else taps
    f = np.asarray(f, dtype=float)
    y = np.full(len(f), np.nan)
    terms = []
    for m in range(len(f)):
        ns = [m - d for d in taps]
        if min(ns) < 0 or max(ns) >= len(f):
            continue
        # y_m = Σ_n f(n) g(m, n)
        y[m] = sum(f[m - d] * w for d, w in taps.items())
        terms.append((m, tuple((float(f[m - d]), w, m - d) for d, w in sorted(taps.items(), reverse=True))))
    return Conv1D(f, dict(taps), y, tuple(terms))


# ------------------------------------------------------------------------------------------------ training

@dataclass(frozen=True)
class GCNConfig:
    """Kipf & Welling's semi-supervised setting on the karate club (featureless: X = I)."""
    labelled: tuple[int, ...] = (0, 1, 32, 33)   # the nodes whose club is known during training
    hidden: int = 16                             # units of the first layer
    lr: float = 0.02
    weight_decay: float = 5e-4
    seed: int = 0
    max_steps: int = 200
    snapshot_every: int = 5


@dataclass(frozen=True)
class GCNSnapshot:
    step: int
    emb: np.ndarray = field(repr=False)          # (N, 2) second-layer embedding tanh(Â H₁ W₂)
    pred: np.ndarray = field(repr=False)         # (N,) predicted club
    acc_unlabelled: float = 0.0                  # accuracy on the nodes not in `labelled`
    loss: float = 0.0
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


def train_gcn(g: Graph, cfg: GCNConfig) -> Iterator[GCNSnapshot]:
    r"""A 3-layer GCN $Z = \mathrm{softmax}(\tanh(\hat A\tanh(\hat A X W_1) W_2) W_3)$, X = I, cross-entropy on the
    labelled nodes only (Kipf & Welling Eq. 9), Adam; a snapshot every `snapshot_every` steps."""
    import torch

    gen = torch.Generator().manual_seed(cfg.seed)
    N = g.N
    A_t = torch.as_tensor(gcn_norm(g.A).toarray(), dtype=torch.float32)   # (N, N) Â, dense: N = 34
    y = torch.as_tensor(g.labels, dtype=torch.long)
    lab = torch.as_tensor(list(cfg.labelled), dtype=torch.long)
    unl = torch.as_tensor([i for i in range(N) if i not in set(cfg.labelled)], dtype=torch.long)

    def glorot(a, b):
        r = np.sqrt(6 / (a + b))
        return (torch.rand(a, b, generator=gen) * 2 * r - r).requires_grad_()

    W1, W2, W3 = glorot(N, cfg.hidden), glorot(cfg.hidden, 2), glorot(2, 2)
    b3 = torch.zeros(2, requires_grad=True)
    opt = optim.Adam([W1, W2, W3, b3], lr=cfg.lr)   # = torch.optim.Adam without its first-call import of torch._dynamo
    secs = 0.0

    def forward():
        h1 = torch.tanh(A_t @ W1)                     # (N, hidden)  Â X W₁ with X = I
        h2 = torch.tanh(A_t @ (h1 @ W2))                # (N, 2)
        return h2, h2 @ W3 + b3                                      # (N, 2) logits

    def snap(step, loss):
        with torch.no_grad():
            h2, logits = forward()
        pred = logits.argmax(1)
        acc = float((pred[unl] == y[unl]).float().mean())
        return GCNSnapshot(step, h2.numpy().astype(np.float64), pred.numpy(), acc, loss,
                           {"loss": loss, "acc": acc}, secs)

    yield snap(0, float("nan"))
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        _, logits = forward()
        loss = torch.nn.functional.cross_entropy(logits[lab], y[lab]) + cfg.weight_decay * (W1 ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        secs += time.perf_counter() - t0
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            yield snap(step, float(loss.detach()))
