"""engine.explainability.shapley: exact Shapley values (properties + orderings brute force), and shap's explainers against
the exact enumeration on small problems."""
from __future__ import annotations

import numpy as np
import pytest

from engine.explainability import shapley as S


def random_game(n, seed):
    rng = np.random.default_rng(seed)
    table = {c: float(rng.normal()) for c in S.coalitions(n)}
    table[frozenset()] = float(rng.normal())
    return S.table_game(table)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_subset_formula_equals_average_over_all_orderings(n):
    v = random_game(n, n)
    phi = S.shapley_values(v, n)
    orders = S.shapley_by_orderings(v, n)
    assert orders.orders.shape == (np.prod(range(1, n + 1)), n)
    np.testing.assert_allclose(phi, orders.phi, atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_efficiency(n):
    v = random_game(n, 10 + n)
    assert S.shapley_values(v, n).sum() == pytest.approx(v(frozenset(range(n))) - v(frozenset()))


def test_symmetry_and_null_player():
    # players 0 and 1 interchangeable, player 2 adds nothing to any coalition
    def v(s):
        s = set(s) - {2}
        return {0: 0.0, 1: 5.0, 2: 12.0}[len(s)] + (3.0 if s == {0, 1} else 0.0)

    phi = S.shapley_values(v, 3)
    assert phi[0] == pytest.approx(phi[1])
    assert phi[2] == pytest.approx(0.0)
    assert phi.sum() == pytest.approx(v({0, 1, 2}) - v(set()))


def test_additive_game_gives_each_player_its_own_worth():
    w = np.array([1.5, -2.0, 0.25, 4.0])
    phi = S.shapley_values(lambda s: float(sum(w[list(s)])), 4)
    np.testing.assert_allclose(phi, w)


def test_seed_prisoners_dilemma_splits_the_cooperation_payoff():
    v = S.table_game(S.prisoners_dilemma_game())
    np.testing.assert_allclose(S.shapley_values(v, 2), [2.0, 2.0])   # the table's (A=2, B=2)
    terms = S.shapley_terms(v, 2, 0)
    assert [sorted(t.coalition) for t in terms] == [[], [1]]
    assert [t.weight for t in terms] == [0.5, 0.5] and [t.gain for t in terms] == [3.0, 1.0]
    # terms sum to φ_i for any game
    g = random_game(4, 7)
    for i in range(4):
        assert sum(t.weight * t.gain for t in S.shapley_terms(g, 4, i)) == pytest.approx(S.shapley_values(g, 4)[i])


def test_tree_shap_equals_exact_interventional_shapley_on_four_features():
    """Oracle both ways: shap's TreeExplainer (interventional) vs the exact enumeration of
    v(S) = mean_b f(x_S, b_-S) for a 4-feature gradient-boosted model."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier

    data = load_breast_cancer()
    X, y = data.data[:, [0, 1, 20, 27]], data.target
    model = GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0).fit(X, y)
    background = X[::40]
    res = S.tree_shap(model, X[:3], background=background)
    for row in range(3):
        v = S.interventional_value_fn(model.decision_function, X[row], background)
        np.testing.assert_allclose(res.values[row], S.shapley_values(v, 4), rtol=1e-6, atol=1e-8)
    assert res.additivity_gap.max() < 1e-8


def test_tree_shap_additivity_on_the_page_model():
    from engine.common.classifier import breast_cancer_task

    task = breast_cancer_task(n_estimators=20)
    res = S.tree_shap(task.model, task.X_test[:10])
    assert res.values.shape == (10, 30)
    assert res.additivity_gap.max() < 1e-6


def test_image_kernel_shap_is_exact_with_full_budget_and_additive_otherwise():
    from engine.common.classifier import TinyCNN, predict_proba
    from engine.explainability.lime_explain import mean_colour_image, segment

    model = TinyCNN(seed=1)
    yy, xx = np.mgrid[:32, :32]
    rgb = np.stack([(xx * 8) % 256, (yy * 8) % 256, ((xx + yy) * 4) % 256], -1).astype(np.uint8)
    seg = segment(rgb, "slic", n_segments=6)
    m = seg.max() + 1
    assert 3 <= m <= 8
    hidden = mean_colour_image(rgb, seg)
    pf = lambda b: predict_proba(model, b)                                  # noqa: E731
    res = S.image_kernel_shap(pf, rgb, 3, seg, hidden, nsamples=2 ** m)
    f = S.masked_value_fn(pf, rgb, seg, 3, hidden)
    v = lambda s: float(f(np.isin(np.arange(m), list(s)).astype(float))[0])  # noqa: E731
    assert res.exact
    np.testing.assert_allclose(res.values, S.shapley_values(v, m), rtol=1e-4, atol=1e-7)
    assert res.base_value == pytest.approx(v(frozenset()), rel=1e-6)
    assert res.additivity_gap < 1e-6


# ----------------------------------------------------------------------------------------------- page (AppTest)
PAGE = "pages/explainability/shapley.py"


def test_page_game_numbers_follow_the_edited_values():
    from conftest import assert_ok, run_page

    at = run_page(PAGE)
    assert_ok(at)
    latex = " ".join(e.value for e in at.latex)
    assert "= 2" in latex                              # the seed's dilemma: φ_A = 2
    at.number_input(key="shapley.v2.AB").set_value(10.0).run()
    latex = " ".join(e.value for e in at.latex)
    assert "= 5" in latex                              # φ_A = ½·3 + ½·(10−3) = 5
    at.slider(key="shapley.n_players").set_value(4).run()
    assert_ok(at)
    assert len(at.number_input) == 16
    text = " ".join(m.value for m in at.markdown)
    assert "24" in text                                # 4! orderings


def test_page_image_with_lime_comparison_and_table_row_ja():
    from conftest import assert_ok, run_page

    at = run_page(PAGE, lang="ja")
    at.slider(key="shapley.n_segments").set_value(8).run()
    at.slider(key="shapley.nsamples").set_value(300).run()     # ≥ 2^M − 2: exact
    at.toggle(key="shapley.compare_lime").set_value(True).run()
    at.slider(key="shapley.row").set_value(5).run()
    assert_ok(at)
    captions = " ".join(c.value for c in at.caption)
    assert "厳密" in captions or "推定" in captions
    assert any("加法性" in m.value for m in at.markdown)


# ----------------------------------------------------------------------------------------------- figures
def test_region_labels_are_centroids_inside_their_regions():
    """Brute force over every region: the label point is the centroid when the centroid's pixel is in the region,
    else the region's own pixel nearest to it (a crescent), so "#j" is always drawn on region j."""
    seg = np.zeros((20, 20), int)
    seg[:, 10:] = 1
    seg[5:15, 12:18] = 2                       # an island: region 1 becomes a ring, its centroid falls in region 2
    seg[0:4, 0:4] = 3
    lab = S.region_labels(seg)
    assert list(lab.ids) == [0, 1, 2, 3]
    for j, r, c in zip(lab.ids, lab.rows, lab.cols):
        pr, pc = np.nonzero(seg == j)
        cen = (pr.mean(), pc.mean())
        assert seg[int(round(r)), int(round(c))] == j
        if seg[int(round(cen[0])), int(round(cen[1]))] == j:
            assert (r, c) == pytest.approx(cen)
        else:
            d = (pr - cen[0]) ** 2 + (pc - cen[1]) ** 2
            assert (r - cen[0]) ** 2 + (c - cen[1]) ** 2 == pytest.approx(d.min())
    assert seg[int(round(lab.rows[1])), int(round(lab.cols[1]))] == 1    # the ring's label moved onto the ring


def test_phi_image_numbers_the_regions_as_the_waterfall_names_them():
    from engine.explainability.lime_explain import segment
    from engine.figures.explainability import shapley as figs

    yy, xx = np.mgrid[:96, :96]
    rgb = np.stack([(xx * 3) % 256, (yy * 3) % 256, ((xx + yy) * 2) % 256], -1).astype(np.uint8)
    seg = segment(rgb, "slic", n_segments=16)
    phi = np.random.default_rng(0).normal(size=seg.max() + 1)
    lab = S.region_labels(seg)
    fig = figs.plot_region_values(rgb, seg, phi, lab.ids, lab.rows, lab.cols, "φ")
    text = [tr for tr in fig.data if tr.type == "scatter"][0]
    assert list(text.text) == [f"#{j}" for j in lab.ids]                  # the waterfall's names …
    np.testing.assert_allclose(text.x, lab.cols, atol=0.05)               # … at the regions' label points
    np.testing.assert_allclose(text.y, lab.rows, atol=0.05)
    assert sorted(lab.ids) == sorted(np.unique(seg))
    wf = figs.plot_waterfall(0.1, phi, [f"#{j}" for j in range(len(phi))], 0.1 + phi.sum(), top=8)
    assert wf.data[0].cliponaxis is False and wf.data[0].textposition == "outside"
    lo, hi = wf.layout.xaxis.range
    levels = 0.1 + np.cumsum(np.r_[0.0, phi[np.argsort(-np.abs(phi))]])
    assert lo < min(0.0, levels.min()) and hi > levels.max()            # room beyond every bar end for its label
    bars = figs.plot_phi(np.array([2.0, -1.0]), ["A", "B"])
    assert bars.data[0].cliponaxis is False and bars.layout.yaxis.range[1] > 2.0


# ---- practice items (engine/practice/explainability/shapley.py): answers recomputed by brute force over orders
def _brute_phi(values: dict, n: int, i: int) -> float:
    """Shapley value by the definition: player i's contribution averaged over all n! orders (own code, no engine)."""
    from itertools import permutations
    v = {frozenset("ABC".index(c) for c in k if c != "∅"): x for k, x in values.items()}
    total, orders = 0.0, list(permutations(range(n)))
    for order in orders:
        before = frozenset(order[:order.index(i)])
        total += v[before | {i}] - v[before]
    return total / len(orders)


def test_practice_answers_equal_brute_force():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("shapley", "phi_value", seed)
        want = _brute_phi(item.params["values"], 3, item.params["player"])
        assert abs(item.answer - want) < 1e-9
        assert item.choices[item.correct_index].label["en"] == f"{want:.2f}"
        eff = P.make("shapley", "efficiency", seed)
        p = eff.params
        assert abs(p["phi0"] + sum(p["phi"]) + eff.answer - p["fx"]) < 1e-9          # φ0 + Σφ = f(x)
        shown = float(eff.choices[eff.correct_index].label["en"])                  # "0.00", never "−0.00"
        assert abs(shown - (p["fx"] - p["phi0"] - sum(p["phi"]))) <= 0.005 + 1e-9
        for name in ("implementation", "blank"):
            it = P.make("shapley", name, seed)
            assert abs(it.exec.expected - _brute_phi(it.params["values"], 3, it.params["player"])) < 1e-9
            assert it.setup["shapley.player"] == "ABC"[it.params["player"]]
            assert all(it.setup[f"shapley.v3.{k}"] == x for k, x in it.params["values"].items())


def test_practice_statements_hold_on_games():
    """The statements the item calls true hold on random 3-player games; the false ones fail on some game."""
    from itertools import permutations
    from math import factorial

    rng = np.random.default_rng(0)
    standalone_differs = equal_weights_differs = False
    for _ in range(100):
        table = {c: float(rng.integers(0, 20)) for c in S.coalitions(3)}
        table[frozenset()] = 0.0
        vals = {("".join("ABC"[j] for j in sorted(c)) or "∅"): x for c, x in table.items()}
        phi = np.array([_brute_phi(vals, 3, i) for i in range(3)])
        assert phi.sum() == pytest.approx(table[frozenset(range(3))])                                  # efficiency
        perm = [2, 0, 1]                                                                               # order_free
        relabelled = {frozenset(perm[j] for j in c): x for c, x in table.items()}
        assert S.shapley_values(S.table_game(relabelled), 3)[perm] == pytest.approx(phi)
        standalone_differs |= not np.allclose(phi, [table[frozenset({i})] for i in range(3)])
        unweighted = [np.mean([table[s | {i}] - table[s] for s in S.coalitions(3) if i not in s]) for i in range(3)]
        equal_weights_differs |= not np.allclose(phi, unweighted)
    assert standalone_differs and equal_weights_differs
    # weight_share: |S|!(M−|S|−1)!/M! = share of orders in which exactly S precedes i (M = 4, i = 0)
    orders = list(permutations(range(4)))
    for s in S.coalitions(4):
        if 0 not in s:
            share = sum(frozenset(o[:o.index(0)]) == s for o in orders) / len(orders)
            assert share == pytest.approx(factorial(len(s)) * factorial(4 - len(s) - 1) / factorial(4))
    # notes_weight: |z'|!(M−|z'|−1)!/M! over z' ∋ i is undefined at z' = x' and its other weights do not sum to 1
    with pytest.raises(ValueError):
        factorial(3 - 3 - 1)
    from math import comb
    right = sum(comb(3, k - 1) * factorial(k - 1) * factorial(4 - k) / factorial(4) for k in range(1, 5))
    notes = sum(comb(3, k - 1) * factorial(k) * factorial(4 - k - 1) / factorial(4) for k in range(1, 4))
    assert right == pytest.approx(1) and notes != pytest.approx(1)


def test_practice_case_opens_in_the_page():
    """"Open this case in the chapter": the item's setup as query parameters puts its game on the page, whose
    expanded player's φ equals the item's answer."""
    from streamlit.testing.v1 import AppTest

    from engine.common import practice as P
    from tests.conftest import ROOT, assert_ok

    item = P.make("shapley", "phi_value", 7)
    at = AppTest.from_file(str(ROOT / "pages/explainability/shapley.py"), default_timeout=120)
    at.query_params["lang"] = "ja"
    for k, v in item.setup.items():
        at.query_params[k] = str(v)
    at.run()
    assert_ok(at)
    assert at.slider(key="shapley.n_players").value == 3
    assert at.selectbox(key="shapley.player").value == item.params["player"]
    assert any(f"= {item.answer:.4g}" in el.value for el in at.latex), [el.value for el in at.latex]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_table_names_in_the_readers_language(lang):
    """Issue 29 (found on LIME, the same here): the table's class and feature names stayed English in Japanese mode.
    In Japanese each is translated with scikit-learn's name in brackets; in English they are scikit-learn's."""
    import json
    import re

    from conftest import assert_ok, run_page
    from engine.common import classifier

    task = classifier.breast_cancer_task()
    at = run_page("pages/explainability/shapley.py", lang=lang)
    assert_ok(at)
    figs = {e.proto.id: json.loads(e.proto.spec) for e in at.get("plotly_chart")}
    shown = [label for f in figs.values() if len(f["data"]) == 10                # the beeswarm: a trace per feature
             for label in f["layout"]["yaxis"]["ticktext"]]
    assert len(shown) == 10
    for label in shown:
        if lang == "en":
            assert label in task.feature_names
        else:
            original = re.fullmatch(r".+ \(([a-z ]+)\)", label).group(1)
            assert original in task.feature_names and re.search(r"[\u4e00-\u9fff]", label)
    if lang == "ja":
        assert any("良性 (benign)" in m.value for m in at.markdown)


def test_practice_kernel_weight_recovers_shapley_values_by_weighted_regression():
    """The Shapley kernel the kernel_weight item asks for (engine shapley_kernel) is the one whose weighted least
    squares, with φ0 = v(∅) and φ0 + Σφ = v(N) imposed, gives the Shapley values of a random 4-player game (brute
    force over orders); and the items' answers are the kernel of their numbers."""
    from itertools import permutations
    from math import comb

    from engine.common import practice as P
    rng = np.random.default_rng(3)
    m = 4
    table = {c: float(rng.normal()) for c in S.coalitions(m)}
    inner = [c for c in S.coalitions(m) if 0 < len(c) < m]
    Z = np.array([[j in c for j in range(m)] for c in inner], float)
    w = np.array([S.shapley_kernel(m, len(c)) for c in inner])
    y = np.array([table[c] for c in inner]) - table[frozenset()]
    total = table[frozenset(range(m))] - table[frozenset()]
    # eliminate φ_M with Σφ = total, then weighted least squares on the rest
    A = Z[:, :-1] - Z[:, -1:]
    b = y - Z[:, -1] * total
    phi = np.linalg.solve(A.T @ (w[:, None] * A), A.T @ (w * b))
    phi = np.r_[phi, total - phi.sum()]
    orders = list(permutations(range(m)))
    brute = [np.mean([table[frozenset(o[:o.index(i) + 1])] - table[frozenset(o[:o.index(i)])] for o in orders])
             for i in range(m)]
    np.testing.assert_allclose(phi, brute, atol=1e-10)
    for seed in range(200):
        item = P.make("shapley", "kernel_weight", seed)
        p = item.params
        one = (p["m"] - 1) / (comb(p["m"], p["k"]) * p["k"] * (p["m"] - p["k"]))
        assert item.answer == pytest.approx(one * comb(p["m"], p["k"]) if p["total"] else one, rel=1e-12)
