"""Practice items for Graphs › GCN (format: engine/common/practice.py)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from engine.common.practice import (statement_choices, N_CHOICES, Choice, Exec, Item, Redraw, code_choices, execute, matches,
                                    numeric_choices, same, shuffled, text)
from engine.graphs import gcn

S = "gcn"


def _graph(n: int, edges) -> gcn.Graph:
    """A Graph from an edge list (drawing coordinates unused)."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    A = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    A = ((A + A.T) > 0).astype(np.float64).tocsr()
    return gcn.Graph("practice", A, np.zeros((n, 2)))


def _connected(rng: np.random.Generator, n: int, extra: float) -> list[tuple[int, int]]:
    """A random connected graph on n nodes: a random spanning tree plus each other pair with probability `extra`."""
    order = rng.permutation(n)
    edges = {tuple(sorted((int(order[i]), int(order[rng.integers(i)])))) for i in range(1, n)}
    for i in range(n):
        for j in range(i + 1, n):
            if (i, j) not in edges and rng.random() < extra:
                edges.add((i, j))
    return sorted(edges)


def _edge_text(edges) -> str:
    return ", ".join(f"({i}, {j})" for i, j in edges)


# ------------------------------------------------------------------------------------ Â = D̃^-½ (A + I) D̃^-½
def renorm_entry(rng: np.random.Generator) -> Item:
    """Compute one entry of the renormalised adjacency Â; distractors: no self-loops, the random-walk (row or
    column) normalisation D̃⁻¹(A + I), 1/(d̃_i d̃_j), the Laplacian's entry."""
    n = int(rng.integers(4, 6))
    edges = _connected(rng, n, 0.3)
    g = _graph(n, edges)
    if rng.random() < 0.75:
        i, j = edges[int(rng.integers(len(edges)))]
        if rng.integers(2):
            i, j = j, i
    else:
        i = j = int(rng.integers(n))
    A_hat = gcn.gcn_norm(g.A).toarray()
    right = float(A_hat[i, j])
    A = g.A.toarray()
    d = A.sum(1)                                # degrees without self-loops
    dt = d + 1                                  # d̃ = degrees of A + I
    a_ij = A[i, j] + (i == j)
    fmt = lambda v: f"{v:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.renorm.right"), [
        (A[i, j] / np.sqrt(d[i] * d[j]), text(S, "practice.renorm.no_loops")),
        (a_ij / dt[i], text(S, "practice.renorm.row")),
        (a_ij / dt[j], text(S, "practice.renorm.col")),
        (a_ij / (dt[i] * dt[j]), text(S, "practice.renorm.both_inverse")),
        (float(i == j) - A[i, j] / np.sqrt(d[i] * d[j]), text(S, "practice.renorm.laplacian")),
        (a_ij / np.sqrt(dt[i] + dt[j]), text(S, "practice.renorm.sum")),
    ], fmt)
    degs = ", ".join(f"d̃_{v} = {int(x)}" for v, x in enumerate(dt))
    return Item(kind="compute",
                stem=text(S, "practice.renorm.stem", n=n, last=n - 1, edges=_edge_text(edges), i=i, j=j),
                choices=choices,
                solution=text(S, "practice.renorm.solution", degs=degs, i=i, j=j, a=int(a_ij), di=int(dt[i]),
                              dj=int(dt[j]), v=fmt(right)),
                setup={}, params={"n": n, "edges": edges, "i": i, "j": j}, answer=right, tolerance=0.0005)


# ------------------------------------------------------------------------------------ one GCN layer, implemented
_LAYER_RIGHT = """def gcn_layer(A, H, W):
    A_t = A + np.eye(len(A))
    d = A_t.sum(axis=1)
    D = np.diag(1 / np.sqrt(d))
    return D @ A_t @ D @ H @ W"""
_LAYER_WRONG = {
    "no_loops": _LAYER_RIGHT.replace("A_t = A + np.eye(len(A))", "A_t = A"),
    "deg_of_a": _LAYER_RIGHT.replace("d = A_t.sum(axis=1)", "d = A.sum(axis=1)"),
    "mean": _LAYER_RIGHT.replace("D = np.diag(1 / np.sqrt(d))", "D = np.diag(1 / d)")
                        .replace("return D @ A_t @ D @ H @ W", "return D @ A_t @ H @ W"),
    "sqrt_not_inverse": _LAYER_RIGHT.replace("D = np.diag(1 / np.sqrt(d))", "D = np.diag(np.sqrt(d))"),
    "elementwise": _LAYER_RIGHT.replace("return D @ A_t @ D @ H @ W", "return (D * A_t * D) @ H @ W"),
}


def layer_implementation(rng: np.random.Generator) -> Item:
    """Which function is one GCN layer ÂHW (before σ)? Each snippet is run on a 3–4 node graph."""
    n = int(rng.integers(3, 5))
    edges = _connected(rng, n, 0.35)
    g = _graph(n, edges)
    A = g.A.toarray()
    H = rng.integers(-2, 4, size=(n, 2)).astype(float)
    W = rng.integers(-1, 3, size=(2, 2)).astype(float)
    expected = gcn.gcn_layer(gcn.gcn_norm(g.A), H, W)
    ex = Exec("gcn_layer", (A, H, W), np.asarray(expected), atol=1e-9)
    wrong = [(code, text(S, f"practice.layer.{k}")) for k, code in _LAYER_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree on this graph")
    choices = code_choices(rng, (_LAYER_RIGHT, text(S, "practice.layer.right")), wrong)
    rows = lambda M: "; ".join(" ".join(f"{v:g}" for v in r) for r in M)          # noqa: E731
    out = "; ".join(" ".join(f"{v:.3f}" for v in r) for r in expected)
    return Item(kind="implementation",
                stem=text(S, "practice.layer.stem", n=n, edges=_edge_text(edges), H=rows(H), W=rows(W)),
                choices=choices, solution=text(S, "practice.layer.solution", out=out),
                setup={}, params={"n": n, "edges": edges, "H": H, "W": W}, exec=ex)


# ------------------------------------------------------------------------------------ K-hop locality on the grid
@lru_cache(maxsize=1)
def _grid() -> gcn.Graph:
    return gcn.grid(gcn.GRID_SIDE)


def khop_count(rng: np.random.Generator) -> Item:
    """On the page's 24 × 24 pixel grid: how many nodes' outputs can depend on x_v through a ChebNet filter of
    order K? (the K-hop ball); distractors: the ring at exactly K hops, the (K − 1)-hop ball, the square
    (2K + 1)², the ball ignoring the image's border, the 2K-hop ball."""
    side = gcn.GRID_SIDE
    K = int(rng.integers(1, 5))
    if rng.random() < 0.6:                                   # near a border or a corner: the ball is cut
        r, c = int(rng.integers(0, K + 1)), int(rng.integers(0, side))
        if rng.integers(2):
            r = side - 1 - r
        if rng.integers(2):
            r, c = c, r
    else:
        r, c = (int(v) for v in rng.integers(K, side - K, size=2))
    v = r * side + c
    spread = gcn.impulse_spread(_grid(), v, K, lmax=2.0)
    right = int(spread.reach.any(0).sum())                   # nodes reached by some T_k, k ≤ K
    hops = spread.hops
    rr, cc = np.divmod(np.arange(side * side), side)
    fmt = lambda x: f"{int(round(x))}"                                  # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.khop.right"), [
        (int((hops == K).sum()), text(S, "practice.khop.ring")),
        (int(((hops >= 0) & (hops <= K - 1)).sum()), text(S, "practice.khop.k_minus_1")),
        (int(((np.abs(rr - r) <= K) & (np.abs(cc - c) <= K)).sum()), text(S, "practice.khop.square")),
        (2 * K * K + 2 * K + 1, text(S, "practice.khop.no_border")),
        (int(((hops >= 0) & (hops <= 2 * K)).sum()), text(S, "practice.khop.two_k")),
        (2 * K + 1, text(S, "practice.khop.line")),
    ], fmt)
    per = ", ".join(str(int((hops == h).sum())) for h in range(K + 1))
    return Item(kind="compute", stem=text(S, "practice.khop.stem", side=side, r=r, c=c, v=v, K=K),
                choices=choices, solution=text(S, "practice.khop.solution", K=K, per=per, n=right, v=v),
                setup={"gcn.graph": text(S, "graph.grid"), "gcn.signal": text(S, "signal.impulse"), "gcn.node": v, "gcn.K": K},
                params={"r": r, "c": c, "K": K}, answer=float(right), tolerance=0.5)


# ------------------------------------------------------------------------------------ the normalised Laplacian's spectrum
_PARTS = {"K2": (2, [(0, 1)]), "P3": (3, [(0, 1), (1, 2)]), "K3": (3, [(0, 1), (1, 2), (0, 2)])}


def _spectrum_label(values) -> str:
    vals = np.sort(np.round(np.asarray(values, float), 3)) + 0.0
    return "{" + ", ".join(f"{v:g}" for v in vals) + "}"


def laplacian_spectrum(rng: np.random.Generator) -> Item:
    """The eigenvalues of the normalised Laplacian of a small graph made of K₂, P₃ and K₃ pieces; distractors: the
    combinatorial Laplacian D − A, the normalised adjacency D^-½AD^-½, I − Â with self-loops."""
    names = [str(x) for x in rng.choice(list(_PARTS), size=int(rng.integers(1, 3)))]
    n, edges = 0, []
    for name in names:
        m, es = _PARTS[name]
        edges += [(a + n, b + n) for a, b in es]
        n += m
    perm = rng.permutation(n)
    edges = sorted(tuple(sorted((int(perm[a]), int(perm[b])))) for a, b in edges)
    g = _graph(n, edges)
    lam = gcn.spectrum(g).lam
    A = g.A.toarray()
    d = A.sum(1)
    Dm = np.diag(1 / np.sqrt(d))
    mistakes = [
        (np.linalg.eigvalsh(np.diag(d) - A), "combinatorial"),
        (np.linalg.eigvalsh(Dm @ A @ Dm), "adjacency"),
        (np.linalg.eigvalsh(np.eye(n) - gcn.gcn_norm(g.A).toarray()), "renorm"),
        (np.linalg.eigvalsh(A), "raw_adjacency"),
    ]
    shown = {_spectrum_label(lam)}
    picked = [Choice(same(_spectrum_label(lam)), True, text(S, "practice.spec.right"))]
    for vals, key in mistakes:
        label = _spectrum_label(vals)
        if label not in shown:
            shown.add(label)
            picked.append(Choice(same(label), False, text(S, f"practice.spec.{key}")))
    if len(picked) < N_CHOICES:
        raise Redraw("mistakes coincide")
    comps = ", ".join(names)
    return Item(kind="compute", stem=text(S, "practice.spec.stem", n=n, last=n - 1, edges=_edge_text(edges)),
                choices=shuffled(rng, picked[:N_CHOICES]),
                solution=text(S, "practice.spec.solution", comps=comps, k=len(names), lam=_spectrum_label(lam),
                              lmax=f"{lam.max():g}"),
                setup={}, params={"n": n, "edges": edges})


# ------------------------------------------------------------------------------------ statements
def cheb_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about spectral graph convolution, ChebNet and GCN (or, half the seeds, the false
    one); the false ones include the course notes' O(N²) eigendecomposition."""
    true = ("k_hop", "gcn_k1", "no_eig", "range", "zero_mult", "two_layers", "bipartite")
    false = ("eig_n2", "k_squared", "spectral_local", "gcn_needs_u", "range_pm1", "large_smooth", "loops_after",
             "renorm_mean")
    choices, invert = statement_choices(rng, S, "practice.cheb", true, false)
    return Item(kind="statement", stem=text(S, "practice.cheb.stem_false" if invert else "practice.cheb.stem_true"),
                choices=choices, solution=text(S, "practice.cheb.solution"), setup={})


GENERATORS = (renorm_entry, layer_implementation, khop_count, laplacian_spectrum, cheb_statement)
