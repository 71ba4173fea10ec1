r"""AlphaGo's search on tic-tac-toe: Monte-Carlo tree search with PUCT, the policy from visit counts, a small
policy-value network trained by self-play (AlphaGo Zero) and AlphaGo's three stages (SL policy on expert games, RL
policy by policy gradient, value network), and exact minimax as the oracle.

Every edge $(s,a)$ of the tree stores $N(s,a)$ (visits), $W(s,a)$ (total value), $Q(s,a)=W/N$ (mean value, $0$
while $N=0$) and the prior $P(s,a)$. A simulation descends from the root by

$$a_t=\arg\max_a\big(Q(s_t,a)+U(s_t,a)\big),\qquad
U(s,a)=c_{\text{puct}}\,P(s,a)\,\frac{\sqrt{\sum_b N(s,b)}}{1+N(s,a)}$$

until it leaves the tree, expands the new node (its priors $P$ from the network, or uniform), evaluates it
($v$ from the value head, a random rollout's outcome $z$, or AlphaGo's mix $(1-\lambda)v+\lambda z$; the exact outcome
at a finished game) and backs the value up the path, sign flipped at every ply (each edge's $W$ and $Q$ are from the
point of view of the player who chooses it). After the simulations the move is drawn from

$$\pi(a\mid s)=\frac{N(s,a)^{1/\tau}}{\sum_b N(s,b)^{1/\tau}}\qquad(\tau\to0:\ \text{the most visited move}).$$

The network $f_\theta(s)=(\mathbf p, v)$ is trained on $(s,\pi,z)$ from its own search games with
$l=(z-v)^2-\pi^\top\log\mathbf p+c\lVert\theta\rVert^2$.

References
----------
Silver et al., "Mastering the game of Go with deep neural networks and tree search", Nature 529, 2016 (AlphaGo:
Methods, "Search algorithm": selection with $u(s,a)\propto P(s,a)/(1+N(s,a))$, leaf evaluation
$V(s_L)=(1-\lambda)v_\theta(s_L)+\lambda z_L$ with $\lambda=0.5$).
Silver et al., "Mastering the game of Go without human knowledge", Nature 550, 2017 (AlphaGo Zero: Methods,
"Select" $U(s,a)=c_{\text{puct}}P(s,a)\sqrt{\sum_b N(s,b)}/(1+N(s,a))$, "Play" $\pi\propto N^{1/\tau}$, Eq. 1 for
the loss, Dirichlet noise $(1-\varepsilon)P+\varepsilon\eta$ at the root).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

import numpy as np

from engine.common.optim import NumpyAdam
from engine.common.text import normalize

CELLS = 9
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
EMPTY: tuple = (0,) * CELLS                 # a board: 9 cells row by row, +1 = X, −1 = O, 0 = empty; X moves first
MAX_MOVES_CHARS = 60
LEAF_EVALS = ("rollout", "net", "mix")      # what a new leaf is worth: random playout z, value head v, (1−λ)v + λz
PRIORS = ("uniform", "net")


# ------------------------------------------------------------------------------------------------ the game
def to_move(board: tuple) -> int:
    """+1 (X) when the counts of X and O are equal, else −1 (O)."""
    return 1 if sum(1 for c in board if c) % 2 == 0 else -1


def winner(board: tuple) -> int | None:
    """+1 X has three in a row, −1 O has, 0 draw (board full), None game on."""
    for a, b, c in LINES:
        if board[a] and board[a] == board[b] == board[c]:
            return board[a]
    return 0 if all(board) else None


def legal_moves(board: tuple) -> list[int]:
    return [] if winner(board) is not None else [i for i in range(CELLS) if board[i] == 0]


def play(board: tuple, a: int) -> tuple:
    b = list(board)
    b[a] = to_move(board)
    return tuple(b)


def replay(moves) -> tuple:
    board = EMPTY
    for a in moves:
        board = play(board, a)
    return board


@dataclass(frozen=True)
class Moves:
    """A typed move list read as far as it is legal: `moves` (cells 0–8), `error` (None, or a code the page
    translates: too_long, not_a_cell, occupied, game_over) with `token` the offending entry as typed."""
    moves: tuple
    error: str | None = None
    token: str = ""


def parse_moves(text: str) -> Moves:
    """Cells 1–9 (row by row from the top left) separated by spaces or commas, full-width digits accepted
    ("5 1 9" = 「５，１，９」). The legal prefix is kept; the first problem is reported."""
    if len(text) > MAX_MOVES_CHARS:
        return Moves((), "too_long", str(MAX_MOVES_CHARS))
    tokens = [t for t in normalize(text).replace(",", " ").replace(";", " ").split() if t]
    board, moves = EMPTY, []
    for tok in tokens:
        if not (tok.isascii() and tok.isdigit() and len(tok) == 1 and tok != "0"):
            return Moves(tuple(moves), "not_a_cell", tok[:12])
        a = int(tok) - 1
        if winner(board) is not None:
            return Moves(tuple(moves), "game_over", tok)
        if board[a]:
            return Moves(tuple(moves), "occupied", tok)
        board = play(board, a)
        moves.append(a)
    return Moves(tuple(moves))


def format_moves(moves) -> str:
    return " ".join(str(a + 1) for a in moves)


# ---------------------------------------------------------------------------------------- exact minimax
@lru_cache(maxsize=None)
def minimax(board: tuple) -> int:
    """The game's exact value for the player to move: +1 win, 0 draw, −1 loss (both sides perfect)."""
    w = winner(board)
    if w is not None:
        return w * to_move(board)               # a finished game: the last mover won (−1 for the one to move)
    return max(-minimax(play(board, a)) for a in legal_moves(board))


def value_for(board: tuple, player: int) -> int:
    """The exact value of a position for `player` (±1): +1 a forced win, 0 a draw, −1 a forced loss; the result
    once the game is over."""
    w = winner(board)
    return int(w * player) if w is not None else int(minimax(board) * to_move(board) * player)


def move_values(board: tuple) -> np.ndarray:
    """(9,) exact value of each move for the player to move (NaN for an illegal one)."""
    out = np.full(CELLS, np.nan)
    for a in legal_moves(board):
        out[a] = -minimax(play(board, a))
    return out


def optimal_moves(board: tuple) -> list[int]:
    """The moves whose exact value is the best (the position's minimax value)."""
    return list(_optimal(board))


@lru_cache(maxsize=None)                    # at most the game's 4 520 positions with moves left
def _optimal(board: tuple) -> tuple:
    legal = legal_moves(board)
    values = [-minimax(play(board, a)) for a in legal]
    best = max(values)
    return tuple(a for a, v in zip(legal, values) if v == best)


@lru_cache(maxsize=1)
def all_positions() -> tuple:
    """Every position reachable from the empty board with the game still on (4 520), in a fixed order."""
    seen, order, stack = {EMPTY}, [], [EMPTY]
    while stack:
        b = stack.pop()
        if winner(b) is not None:
            continue
        order.append(b)
        for a in legal_moves(b):
            c = play(b, a)
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return tuple(sorted(order))


@lru_cache(maxsize=1)
def decisive_positions() -> tuple:
    """The positions where the move matters: not every legal move has the best exact value."""
    return tuple(b for b in all_positions() if len(optimal_moves(b)) < len(legal_moves(b)))


# ------------------------------------------------------------------------------------------ the network
def features(boards) -> np.ndarray:
    """(B, 18): the mover's stones, then the opponent's (the board seen by the player to move)."""
    arr = np.asarray(boards, float).reshape(-1, CELLS)
    me = np.array([to_move(tuple(b)) for b in arr.astype(int)], float)[:, None]
    return np.concatenate([(arr * me == 1), (arr * me == -1)], axis=1).astype(float)


def init_params(hidden: int, rng: np.random.Generator) -> list[np.ndarray]:
    """θ = [W1 (18, H), b1, W2 (H, H), b2, Wp (H, 9), bp, wv (H, 1), bv]: two ReLU layers, a policy head and a tanh
    value head (AlphaGo Zero's two heads on one trunk, in miniature)."""
    H = hidden
    return [rng.standard_normal((18, H)) * np.sqrt(2 / 18), np.zeros(H),
            rng.standard_normal((H, H)) * np.sqrt(2 / H), np.zeros(H),
            rng.standard_normal((H, CELLS)) * 0.1 / np.sqrt(H), np.zeros(CELLS),
            rng.standard_normal((H, 1)) * 0.1 / np.sqrt(H), np.zeros(1)]


@dataclass(frozen=True)
class NetOut:
    p: np.ndarray          # (B, 9) move probabilities, 0 on occupied cells
    v: np.ndarray          # (B,) value in (−1, 1) for the player to move
    cache: tuple = field(repr=False, default=())


def forward(params, x: np.ndarray, legal: np.ndarray) -> NetOut:
    """$(\\mathbf p, v) = f_\\theta(s)$ for features x (B, 18) and a legal-move mask (B, 9)."""
    W1, b1, W2, b2, Wp, bp, wv, bv = params
    h1 = np.maximum(x @ W1 + b1, 0)                      # (B, H)
    h2 = np.maximum(h1 @ W2 + b2, 0)                     # (B, H)
    logits = np.where(legal, h2 @ Wp + bp, -np.inf)      # (B, 9) occupied cells masked out
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    v = np.tanh(h2 @ wv + bv)[:, 0]                      # (B,)
    return NetOut(p, v, (x, h1, h2))


def legal_mask(boards) -> np.ndarray:
    arr = np.asarray(boards).reshape(-1, CELLS)
    return arr == 0


@dataclass(frozen=True)
class Loss:
    total: float
    value: float           # mean (z − v)²
    policy: float          # mean −πᵀ log p
    l2: float              # c ‖θ‖²


def loss_and_grads(params, x, legal, pi, z, c: float, value_weight: float = 1.0) -> tuple[Loss, list[np.ndarray]]:
    """AlphaGo Zero's loss (Silver et al. 2017, Eq. 1), averaged over the batch:
    $$l = (z - v)^2 - \pi^\top \log \mathbf p + c\lVert\theta\rVert^2$$ and its gradient.

    The same function serves AlphaGo's stages: the SL policy (value_weight = 0, π the expert's one-hot move), the
    RL policy's REINFORCE (value_weight = 0, π = z·one-hot(a): the loss −z log p(a|s)) and the value network
    (π = 0). π need not sum to 1: the softmax gradient is p·Σπ − π."""
    W1, b1, W2, b2, Wp, bp, wv, bv = params
    out = forward(params, x, legal)
    _, h1, h2 = out.cache
    B = len(x)
    logp = np.log(np.where(legal, out.p, 1.0))           # log p on legal cells (0 elsewhere, where π = 0)
    # l = (z − v)² − πᵀ log p + c‖θ‖²
    value = float(np.mean((z - out.v) ** 2))
    policy = float(-np.mean(np.sum(pi * logp, axis=1)))
    l2 = c * float(sum(np.sum(w * w) for w in params))
    # gradients of the batch mean
    dlogits = (out.p * pi.sum(1, keepdims=True) - pi) / B     # (B, 9) softmax + cross-entropy
    dv = -2 * value_weight * (z - out.v) / B             # (B,)
    dpre_v = (dv * (1 - out.v ** 2))[:, None]            # (B, 1) through tanh
    dWp, dbp = h2.T @ dlogits, dlogits.sum(0)
    dwv, dbv = h2.T @ dpre_v, dpre_v.sum(0)
    dh2 = (dlogits @ Wp.T + dpre_v @ wv.T) * (h2 > 0)
    dW2, db2 = h1.T @ dh2, dh2.sum(0)
    dh1 = (dh2 @ W2.T) * (h1 > 0)
    dW1, db1 = x.T @ dh1, dh1.sum(0)
    grads = [dW1, db1, dW2, db2, dWp, dbp, dwv, dbv]
    grads = [g + 2 * c * w for g, w in zip(grads, params)]
    return Loss(value_weight * value + policy + l2, value, policy, l2), grads


@lru_cache(maxsize=1)
def _position_index() -> tuple[dict, np.ndarray, np.ndarray]:
    pos = all_positions()
    return {b: i for i, b in enumerate(pos)}, features(pos), legal_mask(pos)


class Evaluator:
    """The network as the search sees it: (P over 9 cells, v) for one board. The whole game has 4 520 positions
    with moves left, so one batched forward pass computes every answer the search can ask for."""

    def __init__(self, params):
        self.params = params
        index, x, legal = _position_index()
        out = forward(params, x, legal)
        self.index, self.p, self.v = index, out.p, out.v

    def __call__(self, board: tuple) -> tuple[np.ndarray, float]:
        i = self.index.get(board)
        if i is None:                                    # a finished game or a position no game reaches
            out = forward(self.params, features([board]), legal_mask([board]))
            return out.p[0], float(out.v[0])
        return self.p[i], float(self.v[i])


# --------------------------------------------------------------------------------------------- the search
@dataclass(frozen=True)
class SearchConfig:
    n_sims: int = 100              # simulations from the root
    c_puct: float = 1.5            # exploration constant of U
    prior: str = "uniform"         # P(s,a): "uniform" over legal moves, or "net" (the policy head)
    leaf: str = "rollout"          # leaf value: "rollout" (random playout), "net" (value head), "mix" (AlphaGo)
    lam: float = 0.5               # λ of AlphaGo's mix (1−λ)v + λz
    dirichlet_alpha: float = 0.0   # root noise η ~ Dir(α) (self-play only; 0 = none)
    dirichlet_eps: float = 0.25    # (1−ε)P + εη at the root


class Node:
    """One state of the tree; arrays over the 9 cells are its edges' N, W and P (P = 0 where illegal)."""

    __slots__ = ("board", "legal", "mask", "P", "N", "W", "children", "terminal")

    def __init__(self, board: tuple, P: np.ndarray):
        self.board = board
        self.terminal = winner(board)
        self.legal = (np.array(board) == 0) if self.terminal is None else np.zeros(CELLS, bool)
        self.mask = np.where(self.legal, 0.0, -np.inf)     # added to the score: an illegal move is never chosen
        self.P = P
        self.N = np.zeros(CELLS, int)
        self.W = np.zeros(CELLS)
        self.children: dict[int, Node] = {}

    @property
    def Q(self) -> np.ndarray:
        """Q(s,a) = W/N, 0 for an edge not yet visited (W = 0 there)."""
        return self.W / np.maximum(self.N, 1)

    def U(self, c_puct: float) -> np.ndarray:
        """U(s,a) = c_puct · P(s,a) · √ΣN(s,b) / (1 + N(s,a))."""
        return (c_puct * math.sqrt(self.N.sum())) * self.P / (1 + self.N)

    def select(self, c_puct: float) -> int:
        """argmax Q + U over legal moves (the lowest cell wins a tie)."""
        return int(np.argmax(self.Q + self.U(c_puct) + self.mask))


@dataclass(frozen=True)
class Simulation:
    path: tuple            # cells chosen from the root to the new (or terminal) leaf
    value: float           # the leaf's value for the player to move at the leaf
    kind: str              # "expand" or "terminal"


@dataclass
class Search:
    root: Node
    sims: list             # Simulation per simulation, in order
    root_visits: np.ndarray   # (n_sims, 9) the root's N after each simulation
    nodes: int


def _uniform(board: tuple) -> np.ndarray:
    legal = np.array([c == 0 for c in board], float)
    return legal / legal.sum() if legal.sum() else legal


def _rollout(board: tuple, rng: np.random.Generator) -> float:
    """A random playout to the end: z for the player to move at `board`."""
    me, b = to_move(board), board
    while (w := winner(b)) is None:
        empty = [i for i in range(CELLS) if b[i] == 0]
        b = play(b, empty[int(rng.integers(len(empty)))])
    return float(w * me)


def backup(trail: list[tuple[Node, int]], v: float) -> None:
    """Back a leaf's value up the path `trail` = [(node, move), …] from the root: $N \mathrel{+}= 1$,
    $W \mathrel{+}= \pm v$. `v` is for the player to move at the leaf; the edge into the leaf was chosen by the
    other player, so it gains −v, and the sign flips at every ply up."""
    g = -v
    for parent, a in reversed(trail):
        parent.N[a] += 1                # N(s,a) ← N(s,a) + 1
        parent.W[a] += g                # W(s,a) ← W(s,a) ± v ;  Q = W/N
        g = -g


def mcts(board: tuple, cfg: SearchConfig, rng: np.random.Generator, net: Evaluator | None = None) -> Search:
    """`cfg.n_sims` PUCT simulations from `board` (game on). Each: select by Q + U down to an edge never taken,
    expand its node, evaluate it, back the value up (negated at each ply)."""
    if winner(board) is not None:
        raise ValueError("the game is over")
    if (cfg.prior == "net" or cfg.leaf in ("net", "mix")) and net is None:
        raise ValueError("this search needs a network")

    def priors(b: tuple) -> np.ndarray:
        return net(b)[0] if cfg.prior == "net" else _uniform(b)

    root = Node(board, priors(board))
    if cfg.dirichlet_alpha > 0:
        legal = root.legal
        eta = np.zeros(CELLS)
        eta[legal] = rng.dirichlet([cfg.dirichlet_alpha] * int(legal.sum()))
        root.P = (1 - cfg.dirichlet_eps) * root.P + cfg.dirichlet_eps * eta      # (1−ε)P + εη
    sims, visits, nodes = [], np.zeros((cfg.n_sims, CELLS), int), 1
    for k in range(cfg.n_sims):
        node, path, trail = root, [], []
        while True:
            a = node.select(cfg.c_puct)
            path.append(a)
            trail.append((node, a))
            child = node.children.get(a)
            if child is None:
                b = play(node.board, a)
                w = winner(b)
                child = node.children[a] = Node(b, np.zeros(CELLS) if w is not None else priors(b))
                nodes += 1
                break
            if child.terminal is not None:
                break
            node = child
        if child.terminal is not None:
            kind = "terminal"
            v = float(child.terminal * to_move(child.board))       # −1: the player who just moved won; 0 draw
        else:
            kind = "expand"
            if cfg.leaf == "rollout":
                v = _rollout(child.board, rng)
            elif cfg.leaf == "net":
                v = net(child.board)[1]
            else:                                                  # V = (1−λ) v_θ + λ z  (AlphaGo)
                v = (1 - cfg.lam) * net(child.board)[1] + cfg.lam * _rollout(child.board, rng)
        backup(trail, v)
        sims.append(Simulation(tuple(path), v, kind))
        visits[k] = root.N
    return Search(root, sims, visits, nodes)


def visit_policy(N: np.ndarray, tau: float) -> np.ndarray:
    """π(a) = N(a)^{1/τ} / Σ_b N(b)^{1/τ}; τ = 0: the most visited move(s), ties shared equally."""
    N = np.asarray(N, float)
    if N.sum() <= 0:
        raise ValueError("no visits")
    if tau <= 0:
        top = N == N.max()
        return top / top.sum()
    with np.errstate(divide="ignore"):
        logs = np.where(N > 0, np.log(np.where(N > 0, N, 1.0)) / tau, -np.inf)   # log N^{1/τ}
    e = np.exp(logs - logs.max())
    return e / e.sum()


def choose(pi: np.ndarray, tau: float, rng: np.random.Generator) -> int:
    """The move played: sampled from π (τ > 0), or the lowest of the most visited cells (τ = 0)."""
    if tau <= 0:
        return int(np.argmax(pi))
    return int(rng.choice(CELLS, p=pi))


@dataclass(frozen=True)
class EdgeRow:
    cell: int
    N: int
    W: float
    Q: float
    P: float
    U: float
    score: float
    pi: float
    exact: float           # minimax value of the move


def root_table(search: Search, c_puct: float, tau: float) -> list[EdgeRow]:
    """The root's edges after the search: N, W, Q, P, U, Q + U, π and the exact minimax value."""
    r = search.root
    Q, U = r.Q, r.U(c_puct)
    pi = visit_policy(r.N, tau)
    exact = move_values(r.board)
    return [EdgeRow(a, int(r.N[a]), float(r.W[a]), float(Q[a]), float(r.P[a]), float(U[a]), float(Q[a] + U[a]),
                    float(pi[a]), float(exact[a])) for a in range(CELLS) if r.legal[a]]


def seed_for(seed: int, moves) -> int:
    """The seed of the search at a position: the same game and settings give the same reply for every reader."""
    return (int(seed) * 1_000_003 + len(moves) * 7919 + sum((a + 1) * 10 ** i for i, a in enumerate(moves))) % 2**32


def search_at(moves, cfg: SearchConfig, seed: int, net: Evaluator | None = None) -> Search:
    """The search at the position after `moves`, seeded by the game and the page's seed: the same game and settings
    give the same search for every reader (and its first k simulations are those of a search of k)."""
    return mcts(replay(moves), cfg, np.random.default_rng(seed_for(seed, moves)), net)


def pick(search: Search, tau: float, seed: int, moves) -> int:
    """The move played after `search_at(moves, …)`: drawn from π with τ (its own seeded stream)."""
    rng = np.random.default_rng([seed_for(seed, moves), 1])
    return choose(visit_policy(search.root.N, tau), tau, rng)


def reply(moves, cfg: SearchConfig, tau: float, seed: int, net: Evaluator | None = None) -> int:
    """The searching player's move at the position after `moves`."""
    return pick(search_at(moves, cfg, seed, net), tau, seed, moves)


# -------------------------------------------------------------------------------------- tree for drawing
@dataclass(frozen=True)
class TreeView:
    x: np.ndarray          # (M,) node positions (leaves spread evenly)
    depth: np.ndarray      # (M,)
    visits: np.ndarray     # (M,) N of the edge into the node (root: ΣN)
    q: np.ndarray          # (M,) Q of that edge, from the chooser's side (root: NaN)
    p: np.ndarray          # (M,) P of that edge (root: NaN)
    parent: np.ndarray     # (M,) index of the parent (root: −1)
    cell: np.ndarray       # (M,) the move into the node (root: −1)
    on_last: np.ndarray    # (M,) bool, on the last simulation's path
    hidden: int            # nodes not drawn (beyond max_nodes)


def tree_view(search: Search, max_nodes: int = 250) -> TreeView:
    """The tree laid out for drawing: children ordered by cell, x by leaf order; only the `max_nodes` most visited
    nodes (a node is kept only with its parent)."""
    last = search.sims[-1].path if search.sims else ()
    rows = []                                   # (node, depth, parent, cell, N, Q, P, on_last)

    def walk(node: Node, depth: int, parent: int, cell: int, n: int, q: float, p: float, on: bool) -> None:
        idx = len(rows)
        rows.append([node, depth, parent, cell, n, q, p, on])
        for a in sorted(node.children):
            walk(node.children[a], depth + 1, idx, a, int(node.N[a]), float(node.Q[a]), float(node.P[a]),
                 on and depth < len(last) and last[depth] == a)

    walk(search.root, 0, -1, -1, int(search.root.N.sum()), np.nan, np.nan, True)
    # keep the most visited nodes, parents first (a child never has more visits than its parent's edge)
    order = sorted(range(len(rows)), key=lambda i: (-rows[i][4], rows[i][1], i))[:max_nodes]
    keep = sorted(order)
    kept = set(keep)
    keep = [i for i in keep if rows[i][2] == -1 or rows[i][2] in kept]
    remap = {old: new for new, old in enumerate(keep)}
    sub = [rows[i] for i in keep]
    parent = np.array([remap.get(r[2], -1) for r in sub])
    # x: leaves in DFS order at 0, 1, 2, …; a parent at the mean of its children
    x = np.zeros(len(sub))
    kids: dict[int, list[int]] = {}
    for i, pidx in enumerate(parent):
        if pidx >= 0:
            kids.setdefault(int(pidx), []).append(i)
    counter = [0.0]

    def place(i: int) -> float:
        if i not in kids:
            x[i] = counter[0]
            counter[0] += 1
        else:
            x[i] = float(np.mean([place(j) for j in kids[i]]))
        return x[i]

    if len(sub):
        place(0)
    return TreeView(x, np.array([r[1] for r in sub]), np.array([r[4] for r in sub]), np.array([r[5] for r in sub]),
                    np.array([r[6] for r in sub]), parent, np.array([r[3] for r in sub]),
                    np.array([r[7] for r in sub], bool), len(rows) - len(sub))


# ------------------------------------------------------------------------------------------------ training
@dataclass(frozen=True)
class Config:
    """Self-play (AlphaGo Zero) and expert-game (AlphaGo's SL stage) training of the same small network."""

    hidden: int = 64               # width of both ReLU layers
    n_sims: int = 24               # simulations per self-play move
    c_puct: float = 1.5
    games_per_step: int = 4        # games played (or read) per snapshot
    train_steps: int = 8           # Adam steps per snapshot
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4     # c of c‖θ‖²
    tau_moves: int = 3             # self-play: τ = 1 for the first moves, then the most visited move
    dirichlet_alpha: float = 1.0   # root noise while self-playing
    buffer: int = 4_000            # positions kept (× 8 symmetries)
    expert_blunder: float = 0.2    # expert games: share of random moves of the otherwise perfect players
    max_games: int = 2_000
    sl_games: int = 400            # AlphaGo: expert games for the SL policy, then
    rl_games: int = 800            # policy-gradient games of the RL policy against earlier versions, then value games
    rl_games_per_step: int = 16    # RL and value stages: games per snapshot (no search: moves sampled from p)
    rl_learning_rate: float = 5e-4
    lam: float = 0.5               # λ of AlphaGo's leaf value (1−λ)v + λz
    eval_sims: int = 16            # searches compared on the test positions
    eval_positions: int = 40
    seed: int = 0


# the 8 symmetries of the square as permutations of the cells: new[i] = old[perm[i]]
def _symmetries() -> np.ndarray:
    grid = np.arange(CELLS).reshape(3, 3)
    out = []
    for k in range(4):
        r = np.rot90(grid, k)
        out += [r.ravel(), np.fliplr(r).ravel()]
    return np.array(out)


SYMMETRIES = _symmetries()         # (8, 9)


@dataclass(frozen=True)
class Snapshot:
    step: int                      # games played (self-play) or read (expert games)
    params: list                   # θ (copies)
    metrics: dict                  # policy_loss, value_loss, optimal_policy, value_error, search_optimal
    positions: int                 # training positions seen so far
    seconds: float = 0.0
    stage: str = ""                # AlphaGo's pipeline: "sl", "rl", "value"
    prior: list | None = None      # AlphaGo: the network whose policy is the search's prior (the SL policy)
    value_params: list | None = None   # AlphaGo: the value network


@lru_cache(maxsize=8)
def _eval_set(n: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed + 12345)
    dec = [b for b in decisive_positions() if len(legal_moves(b)) >= 5]      # early positions where it matters
    idx = rng.choice(len(dec), size=min(n, len(dec)), replace=False)
    return tuple(dec[i] for i in sorted(idx))


@lru_cache(maxsize=1)
def _decisive_rows() -> tuple[np.ndarray, np.ndarray]:
    index = _position_index()[0]
    dec = decisive_positions()
    opt = np.zeros((len(dec), CELLS), bool)
    for i, b in enumerate(dec):
        opt[i, optimal_moves(b)] = True
    return np.array([index[b] for b in dec]), opt


@lru_cache(maxsize=1)
def _exact_values() -> np.ndarray:
    return np.array([minimax(b) for b in all_positions()], float)


def policy_accuracy(params, net: Evaluator | None = None) -> float:
    """Share of the decisive positions where the policy head's most probable move is minimax-optimal."""
    net = net or Evaluator(params)
    rows, opt = _decisive_rows()
    a = np.argmax(net.p[rows], axis=1)
    return float(opt[np.arange(len(a)), a].mean())


def value_error(params, net: Evaluator | None = None) -> float:
    """Mean squared error of the value head against the exact minimax value over all positions with moves left."""
    net = net or Evaluator(params)
    return float(np.mean((net.v - _exact_values()) ** 2))


def search_accuracy(cfg: SearchConfig, positions, seed: int, net: Evaluator | None = None) -> float:
    """Share of `positions` where the search's most visited move is minimax-optimal."""
    rng = np.random.default_rng(seed)
    hits = 0
    for b in positions:
        s = mcts(b, cfg, rng, net)
        hits += int(np.argmax(s.root.N)) in optimal_moves(b)
    return hits / len(positions)


def _metrics(params, cfg: Config, loss: tuple[float, float]) -> dict:
    sc = SearchConfig(n_sims=cfg.eval_sims, c_puct=cfg.c_puct, prior="net", leaf="net")
    net = Evaluator(params)
    return {"policy_loss": loss[0], "value_loss": loss[1], "optimal_policy": policy_accuracy(params, net),
            "value_error": value_error(params, net),
            "search_optimal": search_accuracy(sc, _eval_set(cfg.eval_positions, cfg.seed), cfg.seed, net)}


def baseline_search_accuracy(cfg: Config) -> float:
    """The search without a network (uniform P, random rollouts) on the same test positions and simulations."""
    sc = SearchConfig(n_sims=cfg.eval_sims, c_puct=cfg.c_puct, prior="uniform", leaf="rollout")
    return search_accuracy(sc, _eval_set(cfg.eval_positions, cfg.seed), cfg.seed)


def self_play_game(net: Evaluator, cfg: Config, rng: np.random.Generator) -> list[tuple[tuple, np.ndarray, float]]:
    """One game of the network's search against itself: (s, π, z) per move, z = the outcome for the player to
    move at s."""
    sc = SearchConfig(n_sims=cfg.n_sims, c_puct=cfg.c_puct, prior="net", leaf="net",
                      dirichlet_alpha=cfg.dirichlet_alpha)
    board, record = EMPTY, []
    while winner(board) is None:
        s = mcts(board, sc, rng, net)
        tau = 1.0 if len(record) < cfg.tau_moves else 0.0
        pi = visit_policy(s.root.N, 1.0)              # the training target is π with τ = 1 (AlphaGo Zero)
        a = choose(visit_policy(s.root.N, tau), tau, rng)
        record.append((board, pi))
        board = play(board, a)
    w = winner(board)
    return [(b, p, float(w * to_move(b))) for b, p in record]


def expert_game(cfg: Config, rng: np.random.Generator) -> list[tuple[tuple, np.ndarray, float]]:
    """One 'expert' game: both players play a minimax-optimal move (random among the optimal ones) except for a
    random move with probability `expert_blunder` — the stand-in for AlphaGo's 30 million KGS positions.
    (s, one-hot of the move played, z)."""
    board, record = EMPTY, []
    while winner(board) is None:
        if rng.random() < cfg.expert_blunder:
            moves = legal_moves(board)
        else:
            moves = optimal_moves(board)
        a = moves[int(rng.integers(len(moves)))]
        onehot = np.zeros(CELLS)
        onehot[a] = 1.0
        record.append((board, onehot))
        board = play(board, a)
    w = winner(board)
    return [(b, p, float(w * to_move(b))) for b, p in record]


def example_games(params, cfg: Config) -> dict[str, list]:
    """One game of each kind from the seed: a self-play game of the network `params` (AlphaGo Zero's examples) and
    an expert game (the SL examples)."""
    return {"zero": self_play_game(Evaluator(params), cfg, np.random.default_rng(cfg.seed)),
            "sl": expert_game(cfg, np.random.default_rng(cfg.seed))}


class _Buffer:
    def __init__(self, size: int):
        self.size = size
        self.x, self.legal, self.pi, self.z = [], [], [], []

    def add(self, samples) -> None:
        for b, pi, z in samples:
            boards = np.array(b)[SYMMETRIES]      # (8, 9) the symmetric copies (AlphaGo Zero augments the same way)
            self.x.extend(features(boards))
            self.legal.extend(legal_mask(boards))
            self.pi.extend(pi[SYMMETRIES])
            self.z.extend([z] * len(SYMMETRIES))
        over = len(self.x) - self.size * 8
        if over > 0:
            for lst in (self.x, self.legal, self.pi, self.z):
                del lst[:over]

    def batch(self, n: int, rng: np.random.Generator):
        idx = rng.integers(len(self.x), size=n)
        return (np.array([self.x[i] for i in idx]), np.array([self.legal[i] for i in idx]),
                np.array([self.pi[i] for i in idx]), np.array([self.z[i] for i in idx]))


def _train(cfg: Config, source: str) -> Iterator[Snapshot]:
    rng = np.random.default_rng(cfg.seed)
    params = init_params(cfg.hidden, np.random.default_rng(cfg.seed))     # both models start from the same θ
    opt = NumpyAdam(params, lr=cfg.learning_rate)
    buf = _Buffer(cfg.buffer)
    games = positions = 0
    t0 = time.perf_counter()
    yield Snapshot(0, [p.copy() for p in params], _metrics(params, cfg, (np.nan, np.nan)), 0, 0.0)
    while games < cfg.max_games:
        net = Evaluator(params) if source == "self_play" else None        # this step's games: one network
        for _ in range(cfg.games_per_step):
            samples = self_play_game(net, cfg, rng) if source == "self_play" else expert_game(cfg, rng)
            buf.add(samples)
            positions += len(samples)
        games += cfg.games_per_step
        pl, vl = [], []
        for _ in range(cfg.train_steps):
            loss, grads = loss_and_grads(params, *buf.batch(cfg.batch_size, rng), cfg.weight_decay)
            opt.step(grads)
            pl.append(loss.policy)
            vl.append(loss.value)
        yield Snapshot(games, [p.copy() for p in params], _metrics(params, cfg, (float(np.mean(pl)),
                                                                                  float(np.mean(vl)))),
                       positions, time.perf_counter() - t0)


class Combined:
    """AlphaGo's search: the prior P from one network (the SL policy) and the value v from another (the value
    network)."""

    def __init__(self, prior: Evaluator, value: Evaluator):
        self.prior, self.value = prior, value

    def __call__(self, board: tuple) -> tuple[np.ndarray, float]:
        return self.prior(board)[0], self.value(board)[1]


def policy_game(x_net: Evaluator, o_net: Evaluator, rng: np.random.Generator) -> tuple[list[tuple[tuple, int]], int]:
    """A game without search, each move drawn from the policy head of the player's network: [(s, a)], winner."""
    board, record = EMPTY, []
    while winner(board) is None:
        p = (x_net if to_move(board) == 1 else o_net)(board)[0]
        a = int(rng.choice(CELLS, p=p / p.sum()))
        record.append((board, a))
        board = play(board, a)
    return record, winner(board)


def _alphago_metrics(policy, prior, value, cfg: Config, loss: tuple[float, float]) -> dict:
    sc = SearchConfig(n_sims=cfg.eval_sims, c_puct=cfg.c_puct, prior="net", leaf="mix", lam=cfg.lam)
    net_p, net_v = Evaluator(policy), Evaluator(value)
    search_net = Combined(net_p if prior is policy else Evaluator(prior), net_v)
    return {"policy_loss": loss[0], "value_loss": loss[1], "optimal_policy": policy_accuracy(policy, net_p),
            "value_error": value_error(value, net_v),
            "search_optimal": search_accuracy(sc, _eval_set(cfg.eval_positions, cfg.seed), cfg.seed, search_net)}


def train_alphago(cfg: Config) -> Iterator[Snapshot]:
    """AlphaGo's pipeline in miniature (Silver et al. 2016): (1) SL policy: the policy head learns the expert's
    moves; (2) RL policy: from the SL weights, REINFORCE (−z log p(a|s)) in games against a randomly chosen earlier
    version of itself; (3) value network: a separate network regresses the result z on one position per RL-policy
    self-play game. The search uses the SL policy as the prior and (1−λ)v + λz at the leaves."""
    rng = np.random.default_rng(cfg.seed)
    policy = init_params(cfg.hidden, np.random.default_rng(cfg.seed))       # the same θ0 as AlphaGo Zero's
    value = [p.copy() for p in policy]                                       # a separate value network
    opt, vopt = NumpyAdam(policy, lr=cfg.learning_rate), NumpyAdam(value, lr=cfg.learning_rate)
    buf, vbuf = _Buffer(cfg.buffer), _Buffer(cfg.buffer)
    sl, pool = None, []
    games = positions = 0
    t0 = time.perf_counter()

    def snap(stage: str, loss: tuple[float, float]) -> Snapshot:
        prior = sl if sl is not None else policy
        return Snapshot(games, [p.copy() for p in policy], _alphago_metrics(policy, prior, value, cfg, loss),
                        positions, time.perf_counter() - t0, stage, [p.copy() for p in prior],
                        [p.copy() for p in value])

    yield snap("sl", (np.nan, np.nan))
    while games < cfg.max_games:
        if games < cfg.sl_games:                                 # (1) SL: the expert's move, cross-entropy only
            stage = "sl"
            for _ in range(cfg.games_per_step):
                samples = expert_game(cfg, rng)
                buf.add(samples)
                positions += len(samples)
            games += cfg.games_per_step
            losses = []
            for _ in range(cfg.train_steps):
                x, legal, pi, z = buf.batch(cfg.batch_size, rng)
                loss, grads = loss_and_grads(policy, x, legal, pi, z, cfg.weight_decay, value_weight=0.0)
                opt.step(grads)
                losses.append(loss.policy)
            yield snap(stage, (float(np.mean(losses)), np.nan))
        elif games < cfg.sl_games + cfg.rl_games:                # (2) RL: REINFORCE against earlier versions
            stage = "rl"
            if sl is None:
                sl = [p.copy() for p in policy]
                pool = [Evaluator(sl)]
                opt = NumpyAdam(policy, lr=cfg.rl_learning_rate)
            me = Evaluator(policy)
            boards, acts, zs = [], [], []
            for g in range(cfg.rl_games_per_step):
                opp = pool[int(rng.integers(len(pool)))]
                side = 1 if g % 2 == 0 else -1
                record, w = policy_game(me if side == 1 else opp, opp if side == 1 else me, rng)
                for b, a in record:
                    if to_move(b) == side:                       # the learner's own moves, z from its side
                        boards.append(b)
                        acts.append(a)
                        zs.append(float(w * side))
            games += cfg.rl_games_per_step
            positions += len(boards)
            z = np.array(zs)
            # −z log p(a|s): π = z · one-hot(a), no value term
            loss, grads = loss_and_grads(policy, features(boards), legal_mask(boards), z[:, None] * np.eye(CELLS)[acts],
                                         z, cfg.weight_decay, value_weight=0.0)
            opt.step(grads)
            pool = (pool + [Evaluator([p.copy() for p in policy])])[-20:]    # the opponents: recent versions
            yield snap(stage, (loss.policy, np.nan))
        else:                                                    # (3) value network on the RL policy's games
            stage = "value"
            me = Evaluator(policy)
            for _ in range(cfg.rl_games_per_step):
                record, w = policy_game(me, me, rng)
                b = record[int(rng.integers(len(record)))][0]    # one position per game (positions of a game correlate)
                vbuf.add([(b, np.zeros(CELLS), float(w * to_move(b)))])
            games += cfg.rl_games_per_step
            positions += cfg.rl_games_per_step
            losses = []
            for _ in range(cfg.train_steps):
                x, legal, pi, z = vbuf.batch(cfg.batch_size, rng)
                loss, grads = loss_and_grads(value, x, legal, pi, z, cfg.weight_decay)
                vopt.step(grads)
                losses.append(loss.value)
            yield snap(stage, (np.nan, float(np.mean(losses))))


def train_zero(cfg: Config) -> Iterator[Snapshot]:
    """AlphaGo Zero: the network trains only on its own search games, targets π (visit counts) and z."""
    return _train(cfg, "self_play")


def train_sl(cfg: Config) -> Iterator[Snapshot]:
    """AlphaGo's first stage, in miniature: the same network trained on expert games (the move played as the
    policy target, the game's outcome as the value target)."""
    return _train(cfg, "expert")
