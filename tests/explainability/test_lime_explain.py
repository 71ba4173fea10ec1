"""engine.explainability.lime_explain against the lime library itself (same seed → same explanation) and brute force."""
from __future__ import annotations

import numpy as np
import pytest

from engine.common import classifier as C
from engine.explainability import lime_explain as L


@pytest.fixture(scope="module")
def setup():
    model = C.TinyCNN(seed=2)
    yy, xx = np.mgrid[:32, :32]
    rgb = np.stack([(xx * 8) % 256, (yy * 8) % 256, ((xx * yy) // 4) % 256], -1).astype(np.uint8)
    return model, rgb, (lambda b: C.predict_proba(model, b))


def test_segment_is_dense_and_matches_skimage(setup):
    from skimage.segmentation import slic

    _, rgb, _ = setup
    seg = L.segment(rgb, "slic", n_segments=12)
    ref = slic(rgb, n_segments=12, compactness=10.0, start_label=0)
    assert set(np.unique(seg)) == set(range(seg.max() + 1))
    assert len(np.unique(ref)) == seg.max() + 1
    qs = L.segment(rgb, "quickshift", kernel_size=2, max_dist=20)
    assert qs.shape == rgb.shape[:2] and qs.min() == 0


def test_mean_colour_and_perturb_brute_force(setup):
    _, rgb, _ = setup
    seg = L.segment(rgb, "slic", n_segments=8)
    fudged = L.mean_colour_image(rgb, seg)
    for j in np.unique(seg):
        np.testing.assert_allclose(fudged[seg == j], np.broadcast_to(rgb[seg == j].mean(0), fudged[seg == j].shape))
    z = np.random.default_rng(0).integers(0, 2, (3, seg.max() + 1))
    imgs = L.perturb(rgb, fudged, seg, z)
    for n in range(3):
        for j in range(seg.max() + 1):
            src = rgb if z[n, j] else fudged
            np.testing.assert_array_equal(imgs[n][seg == j], src[seg == j])


@pytest.mark.parametrize("seed,kernel_width", [(0, 0.25), (7, 1.0)])
def test_explain_image_equals_lime_explain_instance(setup, seed, kernel_width):
    from lime import lime_image

    _, rgb, pf = setup
    seg = L.segment(rgb, "slic", n_segments=10)
    ours = L.explain_image(pf, rgb, 2, seg, num_samples=120, kernel_width=kernel_width, seed=seed)
    ex = lime_image.LimeImageExplainer(kernel_width=kernel_width, random_state=seed, feature_selection="none")
    ref = ex.explain_instance(rgb, pf, labels=(2,), top_labels=None, num_features=1000, num_samples=120,
                              batch_size=50, segmentation_fn=lambda im: seg, random_seed=0, hide_color=None)
    coef = np.zeros(seg.max() + 1)
    for j, w in ref.local_exp[2]:
        coef[j] = w
    np.testing.assert_allclose(ours.coef, coef, rtol=1e-6, atol=1e-10)
    assert ours.intercept == pytest.approx(ref.intercept[2])
    assert ours.score == pytest.approx(ref.score)
    # internals: row 0 is the original, weights are lime's kernel of the cosine distances
    assert ours.data[0].all() and ours.distances[0] == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(ours.weights, np.sqrt(np.exp(-ours.distances ** 2 / kernel_width ** 2)))
    np.testing.assert_allclose(ours.probs[:5], pf(L.perturb(rgb, L.mean_colour_image(rgb, seg).astype(np.uint8),
                                                            seg, ours.data[:5]))[:, 2], rtol=1e-5)


def test_surrogate_recovers_a_linear_model_exactly(setup):
    """If f is linear in z', the weighted ridge fit (alpha=1) recovers it up to the ridge shrinkage."""
    _, rgb, _ = setup
    seg = L.segment(rgb, "slic", n_segments=6)
    m = seg.max() + 1
    w = np.linspace(-0.3, 0.5, m)
    fudged = L.mean_colour_image(rgb, seg).astype(np.uint8)

    def f(imgs):   # recovers z' from the images, then a linear model of it
        z = np.array([[float(np.array_equal(im[seg == j], rgb[seg == j])) for j in range(m)] for im in imgs])
        p = 0.2 + z @ w
        return np.stack([1 - p, p], 1)

    del fudged
    r = L.explain_image(f, rgb, 1, seg, num_samples=2000, seed=0)
    np.testing.assert_allclose(r.coef, w, atol=0.01)
    assert r.score > 0.99


def test_stability_jaccard(setup):
    _, rgb, pf = setup
    seg = L.segment(rgb, "slic", n_segments=10)
    st = L.stability(pf, rgb, 1, seg, seeds=(0, 1, 2), num_samples=60, k=3)
    assert st.jaccard.shape == (3, 3) and np.allclose(np.diag(st.jaccard), 1)
    i, j = 0, 2
    a, b = st.tops[i], st.tops[j]
    assert st.jaccard[i, j] == pytest.approx(len(a & b) / len(a | b))
    assert st.mean_jaccard == pytest.approx(np.mean([st.jaccard[0, 1], st.jaccard[0, 2], st.jaccard[1, 2]]))
    assert st.frequency.sum() == pytest.approx(3)
    same = L.stability(pf, rgb, 1, seg, seeds=(4, 4), num_samples=60, k=3)
    assert same.mean_jaccard == 1.0
    assert L.jaccard(frozenset({1, 2}), frozenset({2, 3})) == pytest.approx(1 / 3)


def test_tabular_lime_runs_on_the_shared_task():
    task = C.breast_cancer_task(n_estimators=20)
    r = L.explain_tabular(task.model.predict_proba, task.X_train, task.X_test[0], task.feature_names,
                          task.class_names, num_features=5, num_samples=500, seed=0)
    assert len(r.names) == 5 and np.all(np.abs(r.weights[:-1]) >= np.abs(r.weights[1:]))
    assert 0 <= r.model_pred <= 1
    r2 = L.explain_tabular(task.model.predict_proba, task.X_train, task.X_test[0], task.feature_names,
                           task.class_names, num_features=5, num_samples=500, seed=0)
    np.testing.assert_array_equal(r.weights, r2.weights)   # the seed is the only source of randomness


# ----------------------------------------------------------------------------------------------- page (AppTest)
PAGE = "pages/explainability/lime_explain.py"


def test_page_quickshift_stability_and_table():
    from conftest import assert_ok, run_page

    at = run_page(PAGE, lang="ja")
    assert_ok(at)
    at.slider(key="lime_explain.num_samples").set_value(50).run()
    at.selectbox(key="lime_explain.segmentation").set_value("quickshift").run()
    at.slider(key="lime_explain.kernel_size").set_value(8.0).run()
    at.slider(key="lime_explain.n_seeds").set_value(2).run()
    at.toggle(key="lime_explain.stability").set_value(True).run()
    assert_ok(at)
    assert any("Jaccard" in m.value for m in at.markdown)
    at.slider(key="lime_explain.row").set_value(3).run()
    at.slider(key="lime_explain.n_features").set_value(3).run()
    assert_ok(at)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_table_speaks_the_readers_language_and_names_its_own_controls(lang):
    """Issue 29: the table tab's poor-fit advice named the image tab's controls (samples, kernel width, superpixels),
    and class and feature names stayed English in Japanese mode. Now: the advice names this tab's slider, and in
    Japanese every rule and class is translated with scikit-learn's name in brackets; in English they are lime's own."""
    import json
    import re

    from conftest import assert_ok, run_page
    from ui import i18n

    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    task = C.breast_cancer_task()
    tl = L.explain_tabular(task.model.predict_proba, task.X_train, task.X_test[0], task.feature_names,
                           task.class_names, label=1, num_features=8, num_samples=2000, seed=0)
    assert tl.score < 0.3                                     # row 0 is a poor fit: the advice shows
    advice = [w.value for w in at.warning if f"{tl.score:.3f}" in w.value]
    assert len(advice) == 1
    assert i18n.lookup("lime_explain.n_features", lang) in advice[0]
    for other in ("num_samples", "kernel_width", "kernel_size"):              # the image tab's controls
        assert i18n.lookup(f"lime_explain.{other}", lang).split(" (")[0] not in advice[0]
    fig = json.loads(at.get("plotly_chart")[-1].proto.spec)
    shown = [y for trace in fig["data"] for y in trace.get("y", [])]
    assert len(shown) == len(tl.names)
    if lang == "en":
        assert sorted(shown) == sorted(tl.names)
    else:
        for rule in shown:
            original = re.search(r"\(([a-z ]+)\)", rule).group(1)
            assert original in task.feature_names and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", rule)
            assert rule.replace(re.search(r"\S+（[^）]*） \([a-z ]+\)|\S+ \([a-z ]+\)", rule).group(0), original) in tl.names
        assert any(f"{ja} ({en})" in m.value for m in at.markdown
                   for en, ja in (("benign", "良性"), ("malignant", "悪性")))


def test_page_upload():
    import io

    from PIL import Image

    from conftest import assert_ok, run_page

    buf = io.BytesIO()
    Image.fromarray(np.tile(np.arange(0, 250, 2, dtype=np.uint8)[:, None, None], (1, 90, 3))).save(buf, "PNG")
    at = run_page(PAGE)
    at.slider(key="lime_explain.num_samples").set_value(50).run()
    at.radio(key="lime_explain.source").set_value("upload").run()
    at.file_uploader(key="lime_explain.file").upload("grad.png", buf.getvalue(), "image/png").run()
    assert_ok(at)
    assert len(at.get("plotly_chart")) >= 6


# ---- practice items (engine/practice/explainability/lime_explain.py): answers recomputed by scipy / lime / sklearn
def _cosine_d(z) -> np.ndarray:
    from scipy.spatial.distance import cosine
    z = np.atleast_2d(np.asarray(z, dtype=float))
    return np.array([cosine(row, np.ones(z.shape[1])) for row in z])


def test_practice_kernel_weight_equals_lime_image_kernel_squared():
    from lime.lime_image import LimeImageExplainer

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("lime_explain", "kernel_weight", seed)
        p = item.params
        d = float(_cosine_d(p["z"])[0])
        assert abs(d - p["d"]) <= 5e-5                                        # D shown to 4 decimals
        lime_weight = float(LimeImageExplainer(kernel_width=p["sigma"]).base.kernel_fn(np.array([p["d"]]))[0])
        assert abs(item.answer - lime_weight ** 2) < 1e-12                    # π = (lime's sample weight)²
        assert item.choices[item.correct_index].label["en"] == f"{np.exp(-p['d'] ** 2 / p['sigma'] ** 2):.3f}"
        assert 0.05 <= item.setup["lime_explain.kernel_width"] <= 1.0


def test_practice_jaccard_brute_force():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("lime_explain", "stability_jaccard", seed)
        p = item.params
        tops = [set(sorted(range(8), key=lambda j: -w[j])[:p["k"]]) for w in (p["w1"], p["w2"])]
        want = len(tops[0] & tops[1]) / len(tops[0] | tops[1])
        assert item.answer == pytest.approx(want, abs=1e-12)
        assert item.choices[item.correct_index].label["en"] == f"{want:.3f}"


def test_practice_code_items_equal_scipy_and_sklearn():
    from sklearn.linear_model import Ridge

    from engine.common import practice as P
    for seed in range(200):
        impl = P.make("lime_explain", "implementation", seed)
        want = np.exp(-_cosine_d(impl.params["z"]) ** 2 / impl.params["sigma"] ** 2)
        np.testing.assert_allclose(impl.exec.expected, want, atol=1e-12)
        blank = P.make("lime_explain", "blank", seed)
        z, f, sigma = np.asarray(blank.params["z"], float), np.asarray(blank.params["f"]), blank.params["sigma"]
        w = np.sqrt(np.exp(-_cosine_d(z) ** 2 / sigma ** 2))
        np.testing.assert_allclose(blank.exec.expected, Ridge(alpha=1).fit(z, f, sample_weight=w).coef_, atol=1e-9)


def test_practice_statements_on_the_kernel():
    """small_sigma true / large_sigma false: π(far)/π(near) grows with σ; lime_sqrt: lime's kernel is √π."""
    from lime.lime_image import LimeImageExplainer

    d_near, d_far = 0.1, 0.5
    ratios = [np.exp(-d_far ** 2 / s ** 2) / np.exp(-d_near ** 2 / s ** 2) for s in (0.1, 0.25, 0.5, 1.0)]
    assert np.all(np.diff(ratios) > 0)
    d = np.linspace(0, 1, 11)
    np.testing.assert_allclose(LimeImageExplainer(kernel_width=0.25).base.kernel_fn(d), np.exp(-d ** 2 / (2 * 0.25 ** 2)))
