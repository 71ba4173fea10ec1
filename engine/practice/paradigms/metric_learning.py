"""Practice items for Paradigms › Metric learning (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np
import torch

from engine.common.practice import (statement_choices, N_CHOICES, Choice, Exec, Item, Redraw, code_choices, execute, matches,
                                    numeric_choices, same, shuffled, text)
from engine.paradigms import metric_learning as ml

S = "metric_learning"
MARGINS = (0.5, 1.0, 1.5, 2.0)             # on the page's margin slider (0.1 … 3.0, step 0.1)


def _point(rng, lo=-2.0, hi=2.0) -> np.ndarray:
    return np.round(rng.uniform(lo, hi, 2), 1) + 0.0


def _vec(v) -> str:
    return "(" + ", ".join(f"{x:g}" for x in v) + ")"


def _dist(u, v) -> float:
    """D = ‖u − v‖₂ by the chapter's pairwise_distances."""
    e = torch.tensor(np.stack([u, v]), dtype=torch.float64)
    return float(ml.pairwise_distances(e)[0, 1])


def _contrastive(d: float, y: int, m: float) -> float:
    return float(ml.contrastive_loss(torch.tensor([d], dtype=torch.float64), torch.tensor([y]), m)[0])


def _triplet(d_ap: float, d_an: float, m: float) -> float:
    t = lambda v: torch.tensor([v], dtype=torch.float64)                 # noqa: E731
    return float(ml.triplet_margin_loss(t(d_ap), t(d_an), m)[0])


# ---------------------------------------------------------------------------------------- contrastive loss
def contrastive_value(rng: np.random.Generator) -> Item:
    """Hadsell's contrastive loss of one pair from its two embeddings; distractors: the course notes' flipped label
    (the other term), the ½ left out, the hinge not squared, the squared distance used as D, no max(0, ·)."""
    m = float(rng.choice(MARGINS))
    u = _point(rng)
    similar = bool(rng.integers(2))
    v = np.round(u + rng.uniform(-1.6, 1.6, 2), 1) + 0.0
    D = _dist(u, v)
    if D < 0.05 or abs(D - m) < 0.05:
        raise Redraw("degenerate pair")
    y = 0 if similar else 1                                        # Hadsell: Y = 0 similar, Y = 1 dissimilar
    right = _contrastive(D, y, m)
    hinge = max(0.0, m - D)
    if similar:
        mistakes = [(_contrastive(D, 1, m), "flipped"), (D ** 2, "no_half"), (0.5 * D, "not_squared_d"),
                    (_contrastive(D ** 2, 0, m), "squared_distance")]
    else:
        mistakes = [(_contrastive(D, 0, m), "flipped"), (hinge ** 2, "no_half"), (0.5 * hinge, "not_squared"),
                    (_contrastive(D ** 2, 1, m), "squared_distance"), (0.5 * (m - D) ** 2, "no_max")]
    fmt = lambda x: f"{x:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.contrastive.right"),
                              [(val, text(S, f"practice.contrastive.{key}")) for val, key in mistakes], fmt)
    pair = text(S, "practice.contrastive.similar" if similar else "practice.contrastive.dissimilar")
    return Item(kind="compute",
                stem=text(S, "practice.contrastive.stem", u=_vec(u), v=_vec(v), pair=pair, m=f"{m:g}"),
                choices=choices,
                solution=text(S, "practice.contrastive.solution_similar" if similar
                              else "practice.contrastive.solution_dissimilar",
                              D=f"{D:.4f}", D2=f"{D * D:.4f}", m=f"{m:g}", hinge=f"{hinge:.4f}", L=fmt(right)),
                setup={"metric_learning.margin": m},
                params={"u": u.tolist(), "v": v.tolist(), "y": y, "m": m}, answer=right, tolerance=0.0005)


# ---------------------------------------------------------------------------------------- triplet hinge
def triplet_value(rng: np.random.Generator) -> Item:
    """The triplet hinge max(0, D(a,p) − D(a,n) + m) from three embeddings; distractors: D(a,n) − D(a,p) + m, the
    margin subtracted, no max(0, ·), squared distances (FaceNet's form, not the chapter's)."""
    m = float(rng.choice(MARGINS))
    a, p, n = _point(rng), _point(rng), _point(rng)
    d_ap, d_an = _dist(a, p), _dist(a, n)
    if min(d_ap, d_an) < 0.05 or abs(d_ap - d_an + m) < 0.05:
        raise Redraw("degenerate triplet")
    right = _triplet(d_ap, d_an, m)
    fmt = lambda x: f"{x:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.triplet.right"), [
        (_triplet(d_an, d_ap, m), text(S, "practice.triplet.swapped")),
        (d_ap - d_an + m, text(S, "practice.triplet.no_max")),
        (_triplet(d_ap, d_an, -m), text(S, "practice.triplet.minus_margin")),
        (_triplet(d_ap ** 2, d_an ** 2, m), text(S, "practice.triplet.squared")),
        (_triplet(d_ap, d_an, 0.0), text(S, "practice.triplet.no_margin")),
    ], fmt)
    return Item(kind="compute",
                stem=text(S, "practice.triplet.stem", a=_vec(a), p=_vec(p), n=_vec(n), m=f"{m:g}"),
                choices=choices,
                solution=text(S, "practice.triplet.solution", dap=f"{d_ap:.4f}", dan=f"{d_an:.4f}", m=f"{m:g}",
                              raw=f"{d_ap - d_an + m:.4f}", L=fmt(right)),
                setup={"metric_learning.margin": m},
                params={"a": a.tolist(), "p": p.tolist(), "n": n.tolist(), "m": m}, answer=right, tolerance=0.0005)


# ---------------------------------------------------------------------------------------- mining
def mining_pick(rng: np.random.Generator) -> Item:
    """Which negative does semi-hard (or hard) mining pick, given D(a,p), m and four negatives' distances? The
    answer is the chapter's mine_triplets on that distance matrix; each other negative's feedback says what it is
    (easy: zero loss; hard; semi-hard but not the hardest)."""
    m = float(rng.choice(MARGINS))
    d_ap = round(float(rng.uniform(0.5, 2.0)), 1)
    mining = "semihard" if rng.random() < 0.6 else "hard"
    kinds = ["hard", "semi", "semi", "easy"] if rng.integers(2) else ["hard", "semi", "easy", "easy"]
    d_an = []
    for k in kinds:
        lo, hi = {"hard": (0.1, d_ap - 0.1), "semi": (d_ap + 0.1, d_ap + m - 0.1),
                  "easy": (d_ap + m + 0.1, d_ap + m + 1.5)}[k]
        if hi < lo:
            raise Redraw("no room")
        d_an.append(round(float(rng.uniform(lo, hi)), 1))
    d_an = np.array(rng.permutation(d_an))
    if len(set(d_an.tolist())) < 4:
        raise Redraw("tied distances")
    # anchor 0, positive 1, negatives 2..5
    B = 6
    dist = np.zeros((B, B))
    dist[0, 1] = dist[1, 0] = d_ap
    dist[0, 2:] = dist[2:, 0] = d_an
    labels = np.array([0, 0, 1, 1, 1, 1])
    trip = ml.mine_triplets(dist, labels, m, mining, np.random.default_rng(0))
    pick = int(trip[0, 2]) - 2                                      # anchor 0's negative, as index 0..3
    semis = [i for i in range(4) if d_ap < d_an[i] < d_ap + m]
    if mining == "semihard" and pick not in semis:
        raise Redraw("no semi-hard negative (mining would fall back to a random one)")
    hardest_semi = min(semis, key=lambda i: d_an[i]) if semis else None

    def feedback(i: int):
        if i == pick:
            return text(S, f"practice.mining.right_{mining}")
        if d_an[i] <= d_ap:
            return text(S, "practice.mining.is_hard")
        if d_an[i] >= d_ap + m:
            return text(S, "practice.mining.is_easy")
        return text(S, "practice.mining.semi_not_hardest" if i != hardest_semi else "practice.mining.is_semi")
    choices = tuple(Choice(same(f"n{i + 1}: D(a, n{i + 1}) = {d_an[i]:.1f}"), i == pick, feedback(i))
                    for i in range(4))
    rows = ", ".join(f"D(a, n{i + 1}) = {d:.1f}" for i, d in enumerate(d_an))
    return Item(kind="compute",
                stem=text(S, f"practice.mining.stem_{mining}", dap=f"{d_ap:.1f}", m=f"{m:g}", rows=rows,
                          upper=f"{d_ap + m:.1f}"),
                choices=choices,
                solution=text(S, f"practice.mining.solution_{mining}", dap=f"{d_ap:.1f}", upper=f"{d_ap + m:.1f}",
                              n=f"n{pick + 1}", d=f"{d_an[pick]:.1f}"),
                setup={"metric_learning.margin": m, "metric_learning.mining": text(S, f"mining.{mining}")},
                params={"d_ap": d_ap, "d_an": d_an.tolist(), "m": m, "mining": mining})


# ---------------------------------------------------------------------------------------- statements
def metric_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about the contrastive and triplet losses and mining (or, half the seeds, the false
    one); the false ones include the notes' flipped label read as Hadsell's and L_I(X₂)."""
    true = ("shared", "margin_zero", "triplet_zero", "semihard_def", "unseen", "ratio_never_zero", "hard_collapse")
    false = ("notes_label", "dissimilar_grow", "triplet_sign", "random_best", "ratio_margin", "li_input",
             "siamese_two_nets", "hard_def")
    choices, invert = statement_choices(rng, S, "practice.stmt", true, false)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


# ---------------------------------------------------------------------------------------- implementation
_CONTRASTIVE_RIGHT = """def contrastive(d, y, m):
    # y = 0: similar pair, y = 1: dissimilar pair (Hadsell et al.)
    similar = 0.5 * d ** 2
    dissimilar = 0.5 * torch.clamp(m - d, min=0) ** 2
    return (1 - y) * similar + y * dissimilar"""
_CONTRASTIVE_WRONG = {
    "flipped": _CONTRASTIVE_RIGHT.replace("return (1 - y) * similar + y * dissimilar",
                                          "return y * similar + (1 - y) * dissimilar"),
    "no_clamp": _CONTRASTIVE_RIGHT.replace("torch.clamp(m - d, min=0) ** 2", "(m - d) ** 2"),
    "not_squared": _CONTRASTIVE_RIGHT.replace("torch.clamp(m - d, min=0) ** 2", "torch.clamp(m - d, min=0)"),
    "clamp_max": _CONTRASTIVE_RIGHT.replace("torch.clamp(m - d, min=0)", "torch.clamp(m - d, max=0)"),
    "d_minus_m": _CONTRASTIVE_RIGHT.replace("torch.clamp(m - d, min=0)", "torch.clamp(d - m, min=0)"),
}


def contrastive_implementation(rng: np.random.Generator) -> Item:
    """Which function is Hadsell's contrastive loss per pair? Each snippet is run on a batch of pairs (distances,
    labels, margin); exactly one returns the chapter's contrastive_loss."""
    m = float(rng.choice(MARGINS))
    P = int(rng.integers(4, 7))
    d = np.round(rng.uniform(0.1, m + 1.0, P), 2)
    y = rng.integers(0, 2, P)
    y[0], y[1] = 0, 1
    y[2] = 1
    d[2] = round(float(rng.uniform(0.1, m - 0.05)), 2)              # a dissimilar pair inside the margin
    dt, yt = torch.tensor(d, dtype=torch.float64), torch.tensor(y)
    expected = ml.contrastive_loss(dt, yt, m).numpy()
    ex = Exec("contrastive", (dt, yt, m), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _CONTRASTIVE_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree on these pairs")
    choices = code_choices(rng, (_CONTRASTIVE_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation",
                stem=text(S, "practice.impl.stem", d=", ".join(f"{v:.2f}" for v in d),
                          y=", ".join(str(int(v)) for v in y), m=f"{m:g}"),
                choices=choices,
                solution=text(S, "practice.impl.solution", L=", ".join(f"{v:.4f}" for v in expected)),
                setup={"metric_learning.margin": m},
                params={"d": d.tolist(), "y": y.tolist(), "m": m}, exec=ex)


GENERATORS = (contrastive_value, triplet_value, mining_pick, metric_statement, contrastive_implementation)
