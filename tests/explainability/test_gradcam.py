"""engine.explainability.gradcam against pytorch-grad-cam (the reference library) and brute-force autograd on a tiny CNN."""
from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from engine.common import classifier as C
from engine.explainability import gradcam as G


def corr(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


@pytest.fixture(scope="module")
def tiny():
    return C.TinyCNN(n_classes=5, seed=0)


@pytest.fixture(scope="module")
def x16():
    return torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def mobilenet():
    return C.load_mobilenet_v2()


def _library_cam(model, layer, x, target, cls):
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    twin = copy.deepcopy(model).requires_grad_(True)   # the library hooks and backpropagates: its own copy
    with cls(model=twin, target_layers=[twin.get_submodule(layer)]) as lib:
        return lib(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]


@pytest.mark.parametrize("layer", ["features.1", "features.3", "features.5"])
@pytest.mark.parametrize("target", [0, 3])
def test_grad_cam_matches_pytorch_grad_cam_on_tiny_cnn(tiny, x16, layer, target):
    from pytorch_grad_cam import GradCAM

    ours = G.grad_cam(tiny, layer, x16, target)
    ref = _library_cam(tiny, layer, x16, target, GradCAM)
    assert ours.shape == (16, 16) and ours.min() >= 0 and ours.max() <= 1
    if ref.max() > 0:
        assert corr(ours, ref) >= 0.999


def test_grad_cam_pp_matches_library(tiny, x16):
    from pytorch_grad_cam import GradCAMPlusPlus

    ours = G.grad_cam_pp(tiny, "features.5", x16, 1)
    ref = _library_cam(tiny, "features.5", x16, 1, GradCAMPlusPlus)
    assert corr(ours, ref) >= 0.999


def test_grad_cam_matches_library_on_real_mobilenet(mobilenet):
    from pytorch_grad_cam import GradCAM

    x = torch.randn(1, 3, 112, 112, generator=torch.Generator().manual_seed(2))
    for layer, target in [("features.18", 281), ("features.13", 7)]:
        ours = G.grad_cam(mobilenet, layer, x, target)
        ref = _library_cam(mobilenet, layer, x, target, GradCAM)
        assert corr(ours, ref) >= 0.999, layer


def test_weights_are_gap_of_autograd_gradients(tiny, x16):
    """Brute force: the full model with the activation taken the slow way, gradient by backward()."""
    res = G.layer_cam(tiny, "features.3", x16, 2)
    xx = x16.clone()
    a = tiny.features[:4](xx).detach().requires_grad_(True)
    y = C.head(tiny, tiny.features[4:](a))[0, 2]
    y.backward()
    alpha = a.grad[0].mean(dim=(1, 2))
    np.testing.assert_allclose(res.weights, alpha.numpy(), rtol=1e-5, atol=1e-7)
    manual = torch.relu((alpha[:, None, None] * a[0].detach()).sum(0)).numpy()
    np.testing.assert_allclose(res.cam, manual, rtol=1e-5, atol=1e-6)
    assert res.score == pytest.approx(float(y.detach()))


def test_cam_is_fc_weighted_sum_and_equals_grad_cam_at_last_layer(tiny, x16):
    res = G.layer_cam(tiny, "features.5", x16, 4, "cam")
    with torch.no_grad():
        a = tiny.features(x16)[0]
        w = tiny.classifier[0].weight[4]
        manual = torch.relu(torch.einsum("k,khw->hw", w, a)).numpy()
    np.testing.assert_allclose(res.cam, manual, rtol=1e-5, atol=1e-6)
    # with GAP + one linear layer, ∂y/∂A^k_ij = w_k / Z: Grad-CAM is CAM scaled by 1/Z
    assert corr(G.cam(tiny, "features.5", x16, 4), G.grad_cam(tiny, "features.5", x16, 4)) > 0.9999
    with pytest.raises(ValueError):
        G.cam(tiny, "features.3", x16, 4)


def test_guided_backprop_matches_library_and_leaves_model_intact(tiny, x16):
    from pytorch_grad_cam import GuidedBackpropReLUModel

    before = [p.clone() for p in tiny.parameters()]
    ours = G.guided_backprop(tiny, "features.5", x16, 2)
    ref = GuidedBackpropReLUModel(copy.deepcopy(tiny), device="cpu")(x16.clone(), 2)
    assert ours.shape == (16, 16, 3)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6)
    assert all(isinstance(m, torch.nn.ReLU) for m in tiny.features[1::2])       # no module swapped
    assert all(torch.equal(a, b) for a, b in zip(before, tiny.parameters()))
    ggc = G.guided_grad_cam(tiny, "features.5", x16, 2)
    np.testing.assert_allclose(ggc, ours * G.grad_cam(tiny, "features.5", x16, 2)[..., None], rtol=1e-6)


def test_guided_relu6_masks_both_ends():
    x = torch.tensor([-1.0, 3.0, 7.0, 2.0], requires_grad=True)
    y = G.GuidedReLU(6.0)(x)
    (g,) = torch.autograd.grad(y, x, torch.tensor([1.0, 1.0, 1.0, -1.0]))
    assert y.tolist() == [0.0, 3.0, 6.0, 2.0]
    assert g.tolist() == [0.0, 1.0, 0.0, 0.0]


def test_eight_threads_on_one_shared_model_agree_with_serial(mobilenet):
    g = torch.Generator().manual_seed(5)
    jobs = [(torch.randn(1, 3, 64, 64, generator=g), int(c), layer)
            for c, layer in zip(torch.randint(0, 1000, (8,), generator=g),
                                ["features.18", "features.14", "features.7", "features.18"] * 2)]
    serial = [(G.grad_cam(mobilenet, l, x, c), G.guided_backprop(mobilenet, l, x, c)) for x, c, l in jobs]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda j: (G.grad_cam(mobilenet, j[2], j[0], j[1]),
                                            G.guided_backprop(mobilenet, j[2], j[0], j[1])), jobs))
    for (a, b), (c, d) in zip(serial, threaded):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_deletion_curve_brute_force(tiny, x16):
    imp = np.random.default_rng(0).random((16, 16))
    curve = G.deletion_curve(tiny, x16, imp, 1, steps=4)
    order = np.argsort(-imp.ravel())
    for f, p in zip(curve.fractions, curve.probs):
        xd = x16.clone().view(1, 3, -1)
        xd[..., order[: int(round(f * 256))]] = 0
        with torch.no_grad():
            ref = torch.softmax(tiny(xd.view(1, 3, 16, 16)), 1)[0, 1]
        assert p == pytest.approx(float(ref), rel=1e-5)
    assert curve.auc == pytest.approx(np.trapezoid(curve.probs, curve.fractions))


def test_sanity_check_randomisation_changes_map_and_not_the_model(tiny, x16):
    before = G.grad_cam(tiny, "features.5", x16, 0)
    res = G.sanity_check(tiny, "features.5", x16, 0, "gradcam", steps=3, seed=0)
    np.testing.assert_array_equal(G.grad_cam(tiny, "features.5", x16, 0), before)
    assert res.spearman[0] == pytest.approx(1.0)
    assert res.maps.shape == (4, 16, 16) and res.randomized == ["", "classifier", "features.5", "features.4"]
    assert res.spearman[-1] < 0.9
    twin = G.randomized_copy(tiny, 1, seed=0)
    assert not torch.equal(twin.classifier[0].weight, tiny.classifier[0].weight)
    assert torch.equal(twin.features[0].weight, tiny.features[0].weight)
    # a local generator: same seed, same copy
    assert torch.equal(G.randomized_copy(tiny, 1, seed=0).classifier[0].weight, twin.classifier[0].weight)


# ----------------------------------------------------------------------------------------------- page (AppTest)
PAGE = "pages/explainability/gradcam.py"


def _png(w=300, h=200) -> bytes:
    import io

    from PIL import Image

    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[40:160, 80:220] = (250, 200, 30)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_page_upload_other_class_and_layer():
    from conftest import assert_ok, run_page

    at = run_page(PAGE, lang="ja")
    assert_ok(at)
    assert len(at.get("plotly_chart")) >= 9
    at.radio(key="gradcam.source").set_value("upload").run()
    at.file_uploader(key="gradcam.file").upload("box.png", _png(), "image/png").run()
    assert_ok(at)
    at.selectbox(key="gradcam.target").set_value(-1).run()
    at.selectbox(key="gradcam.class_search").set_value(281).run()
    at.selectbox(key="gradcam.layer.mobilenet_v2").set_value("features.10").run()
    at.selectbox(key="gradcam.sanity_method").set_value("guided_backprop").run()
    assert_ok(at)
    captions = " ".join(c.value for c in at.caption)
    assert "features.10" in captions and "features.18" in captions   # CAM stays at the last layer


def test_page_second_architecture():
    from conftest import assert_ok, run_page

    at = run_page(PAGE)
    at.selectbox(key="gradcam.model").set_value("efficientnet_lite0").run()
    assert_ok(at)
    assert at.selectbox(key="gradcam.layer.efficientnet_lite0").value == "features.17"
    at.selectbox(key="gradcam.layer.efficientnet_lite0").set_value("features.12").run()
    assert_ok(at)


def test_grad_cam_matches_library_on_efficientnet_lite0():
    from pytorch_grad_cam import GradCAM

    lite = C.load_efficientnet_lite0()
    x = torch.randn(1, 3, 112, 112, generator=torch.Generator().manual_seed(3))
    ours = G.grad_cam(lite, "features.17", x, 281)
    ref = _library_cam(lite, "features.17", x, 281, GradCAM)
    assert corr(ours, ref) >= 0.999
    assert corr(G.cam(lite, "features.17", x, 281), ours) > 0.9999


def test_page_refuses_a_broken_upload():
    from conftest import run_page

    at = run_page(PAGE)
    at.radio(key="gradcam.source").set_value("upload").run()
    at.file_uploader(key="gradcam.file").upload("x.png", b"not an image", "image/png").run()
    assert not at.exception and at.error and not at.get("plotly_chart")


def test_figure_builders_return_small_figures(tiny, x16):
    import plotly.graph_objects as go

    from engine.figures.explainability import gradcam as figs
    from engine.figures.explainability import lime_explain as lfigs
    from engine.figures.explainability import shapley as sfigs

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    heat = rng.random((224, 224))
    seg = (np.arange(224)[:, None] // 32 * 7 + np.arange(224)[None, :] // 32)
    res = G.layer_cam(tiny, "features.5", x16, 0)
    curve = G.deletion_curve(tiny, x16, rng.random((16, 16)), 0, steps=4)
    built = [
        figs.plot_overlay(rgb, heat), figs.plot_image(rgb), figs.plot_channel_weights(res.weights, res.activations),
        figs.plot_cam_grid(res.cam), figs.plot_sanity(rng.random((4, 224, 224)), ["a", "b", "c", "d"], np.ones(4)),
        figs.plot_deletion({"x": (curve.fractions, curve.probs, curve.auc)}),
        figs.plot_topk(["a", "b"], np.array([0.6, 0.3])),
        lfigs.plot_segments(rgb, seg), lfigs.plot_segment_values(rgb, seg, rng.normal(size=49)),
        lfigs.plot_samples(rng.random((6, 64, 64, 3)) * 255, np.ones(6), np.ones(6), list("abcdef")),
        lfigs.plot_neighbourhood(rng.random(500), rng.random(500), rng.random(500), rng.integers(0, 9, 500)),
        lfigs.plot_coefficients(rng.normal(size=49)), lfigs.plot_jaccard(np.eye(3), (0, 1, 2)),
        lfigs.plot_tabular(["a", "b"], np.array([0.2, -0.1])),
        sfigs.plot_phi(np.array([2.0, 2.0]), ["A", "B"]),
        sfigs.plot_waterfall(0.5, rng.normal(size=30), [f"f{i}" for i in range(30)], 1.0),
        sfigs.plot_beeswarm(rng.normal(size=(114, 30)), rng.normal(size=(114, 30)), [f"f{i}" for i in range(30)]),
        sfigs.plot_side_by_side(rng.normal(size=20), rng.normal(size=20), ("a", "b")),
    ]
    for fig in built:
        assert isinstance(fig, go.Figure)
        assert len(fig.to_json()) < 2_000_000
    # the overlay's hover layer carries the map itself (block-averaged), not a placeholder
    z = np.asarray(built[0].data[1].z)
    assert z.shape == (56, 56) and np.allclose(z[0, 0], heat[:4, :4].mean(), atol=0.005)   # block means, 2 decimals
    # the waterfall goes from φ0 through the 10 largest steps and "the rest" to f(x)
    phi = np.random.default_rng(0).normal(size=30)
    wf = sfigs.plot_waterfall(0.5, phi, [f"f{i}" for i in range(30)], 1.0, top=10).data[0]
    steps = list(wf.x)
    assert steps[0] == 0.5 and steps[-1] == 1.0 and len(steps) == 13
    assert sum(steps[1:-1]) == pytest.approx(phi.sum())
    assert abs(steps[1]) == pytest.approx(np.abs(phi).max())


def test_deletion_in_patches_removes_whole_blocks(tiny, x16):
    imp = np.random.default_rng(3).random((16, 16))
    pooled = G.patch_importance(imp, 4)
    np.testing.assert_allclose(pooled[:4, :4], imp[:4, :4].mean())
    np.testing.assert_allclose(pooled[12:, 8:12], imp[12:, 8:12].mean())
    by_patch = G.deletion_curve(tiny, x16, imp, 1, steps=16, patch=4)
    same = G.deletion_curve(tiny, x16, pooled, 1, steps=16)
    np.testing.assert_allclose(by_patch.probs, same.probs)
    # after one step (1/16 of the pixels = one 4×4 block) exactly the best block is at the baseline
    best = np.unravel_index(np.argmax(imp.reshape(4, 4, 4, 4).mean(axis=(1, 3))), (4, 4))
    xd = x16.clone()
    xd[..., best[0] * 4:best[0] * 4 + 4, best[1] * 4:best[1] * 4 + 4] = 0
    with torch.no_grad():
        assert by_patch.probs[1] == pytest.approx(float(torch.softmax(tiny(xd), 1)[0, 1]), rel=1e-5)


@pytest.mark.slow
def test_eight_concurrent_page_sessions_draw_what_each_draws_alone(monkeypatch):
    """Eight sessions at once, as eight browser tabs share one server process: eight AppTests on eight threads share
    the cached model (st.cache_resource), each with its own image, predicted class and layer. With the result
    caches cleared in between, every session's maps must equal the ones it draws alone. The sanity check and the
    deletion curves run at their cheapest settings (they are not what is compared), which halves the cost."""
    import streamlit as st
    from conftest import assert_ok, run_page

    from ui.inputs import DEFAULT_IMAGES

    combos = [(image, layer) for layer in ("features.18", "features.14", "features.7") for image in DEFAULT_IMAGES][:8]
    shown = ("gradcam.fig_gradcam", "gradcam.fig_guided_gradcam", "gradcam.fig_alpha")

    def session(combo: tuple[str, str]) -> dict[str, str]:
        image, layer = combo
        at = run_page(PAGE, timeout=600)
        at.slider(key="gradcam.sanity_steps").set_value(1)
        at.slider(key="gradcam.deletion_steps").set_value(4)
        at.selectbox(key="gradcam.sample").set_value(image)
        at.selectbox(key="gradcam.layer.mobilenet_v2").set_value(layer)
        at.run()
        assert_ok(at)
        specs = {c.proto.id.rsplit("-", 1)[-1]: c.proto.spec for c in at.get("plotly_chart")}
        missing = [k for k in shown if k not in specs]
        assert not missing, (combo, missing, sorted(specs), [e.value for e in at.error], [w.value for w in at.warning])
        return {k: specs[k] for k in shown}

    alone = [session(c) for c in combos]
    st.cache_data.clear()
    # Each AppTest parses the page itself (a server parses it once): CPython 3.11's ast.parse is not safe to run in
    # several threads at once ("AST constructor recursion depth mismatch"), so only the parsing takes turns.
    import ast
    import threading

    parse, lock = ast.parse, threading.Lock()

    def parse_in_turn(*args, **kwargs):
        with lock:
            return parse(*args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse_in_turn)
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(session, combos))
    assert len({a["gradcam.fig_gradcam"] for a in alone}) == len(combos)     # eight different maps: a mix-up shows
    for combo, a, b in zip(combos, alone, together):
        assert a == b, combo


def test_family_and_deletion_comparison_are_the_single_methods(tiny, x16):
    """The page's one call per step gives exactly what each method gives alone (one Guided Grad-CAM)."""
    fam = G.explain_family(tiny, "features.3", x16, 2)
    np.testing.assert_allclose(fam["guided_gradcam"], G.guided_grad_cam(tiny, "features.3", x16, 2), rtol=1e-6)
    np.testing.assert_allclose(fam["gradcam"].heatmap, G.grad_cam(tiny, "features.3", x16, 2), rtol=1e-6)
    curves = G.deletion_comparison(tiny, "features.3", x16, 2, steps=4, patch=4, rng=np.random.default_rng(0))
    assert set(curves) == {*G.METHODS, "random"}
    alone = G.deletion_curve(tiny, x16, G.saliency(tiny, "features.3", x16, 2, "gradcampp"), 2, steps=4, patch=4)
    np.testing.assert_allclose(curves["gradcampp"].probs, alone.probs, rtol=1e-6)
    rng = np.random.default_rng(0)          # the random reference: the mean of n_random draws from one generator
    draws = [G.deletion_curve(tiny, x16, G.random_importance((16, 16), rng), 2, steps=4, patch=4) for _ in range(4)]
    np.testing.assert_allclose(curves["random"].probs, np.mean([d.probs for d in draws], 0), rtol=1e-6)
    assert curves["random"].auc == pytest.approx(np.mean([d.auc for d in draws]))


def test_beats_random_compares_each_auc_with_the_random_one():
    fr = np.linspace(0, 1, 3)
    curves = {m: G.DeletionCurve(fr, np.zeros(3), auc) for m, auc in (("cam", 0.1), ("gradcam", 0.3), ("random", 0.2))}
    assert G.beats_random(curves) == ("cam",)


def _deletion_case(model, name):
    import skimage.data
    from PIL import Image

    rgb = C.preprocess(Image.fromarray(getattr(skimage.data, name)()).convert("RGB")).rgb
    x = C.to_tensor(rgb)
    target = int(C.top_k(model, x, k=1).indices[0])
    last = C.conv_layers(model)[-1]
    # the page's defaults: last layer, top-1 class, 8 steps, 16-px blocks, 4 random orders from default_rng(0)
    return target, G.deletion_comparison(model, last, x, target, 8, 16, np.random.default_rng(0), n_random=4)


def _check_lesson_and_counter_example(model):
    target, lesson = _deletion_case(model, G.DELETION_LESSON)
    assert C.categories()[target] == "tripod"
    assert G.beats_random(lesson) == G.METHODS                       # every map beats the random order …
    assert max(c.auc for m, c in lesson.items() if m != "random") < 0.8 * lesson["random"].auc   # … clearly
    assert lesson["guided_backprop"].auc == max(c.auc for m, c in lesson.items() if m != "random")
    target, counter = _deletion_case(model, G.DELETION_COUNTER)
    assert C.categories()[target] == "Egyptian cat"
    assert G.beats_random(counter) == ()                              # the cat: random beats every map


def test_deletion_lesson_image_beats_random_and_the_cat_does_not(mobilenet):
    """The page opens its deletion test on DELETION_LESSON because there the maps beat random; the cat is the
    counter-example it explains."""
    _check_lesson_and_counter_example(mobilenet)


@pytest.mark.slow
def test_deletion_cases_hold_on_efficientnet_lite0_too():
    _check_lesson_and_counter_example(C.load_efficientnet_lite0())


def test_page_deletion_opens_on_the_clear_case_and_runs_on_the_readers_image():
    from conftest import assert_ok, run_page

    at = run_page(PAGE)
    assert_ok(at)
    assert at.radio(key="gradcam.deletion_image").value == G.DELETION_LESSON
    text = " ".join(m.value for m in at.markdown)
    assert "On this image 5 of 5 maps beat the random order" in text and "tripod" in text
    at.radio(key="gradcam.deletion_image").set_value(G.DELETION_COUNTER).run()
    assert_ok(at)
    assert "On this image 0 of 5 maps beat the random order" in " ".join(m.value for m in at.markdown)
    assert "counter-example" in " ".join(i.value for i in at.info)
    at.radio(key="gradcam.deletion_image").set_value("yours").run()
    at.selectbox(key="gradcam.sample").set_value("coffee").run()
    assert_ok(at)
    assert "espresso" in " ".join(m.value for m in at.markdown)     # the reader's image, for the class picked above


def test_warm_up_fills_everything_the_page_computes_at_its_defaults():
    """ui.gradcam.warm_defaults (run by the warm-up before the first reader) computes the very keys the page's
    default run asks for: the page then adds nothing to the store and draws no progress bar."""
    from conftest import assert_ok, run_page
    from ui import gradcam as ui_gradcam
    from ui.models import _results

    ui_gradcam.warm_defaults()
    before = set(_results().items)
    at = run_page(PAGE)
    assert_ok(at)
    assert set(_results().items) == before
    assert not at.get("progress")


# ---- practice items (engine/practice/explainability/gradcam.py): answers recomputed by pytorch-grad-cam / autograd
def _library_map(a, g) -> np.ndarray:
    """pytorch-grad-cam's own Grad-CAM image from (K, h, w) activations and gradients: weights, sum, ReLU."""
    from pytorch_grad_cam import GradCAM
    class Bare(GradCAM):                              # get_cam_image only needs the class's methods
        def __del__(self):                            # nothing was hooked, nothing to release
            pass

    cam = GradCAM.get_cam_image(object.__new__(Bare), None, None, None, np.asarray(a)[None], np.asarray(g)[None])
    return np.maximum(cam, 0)[0]


def test_practice_answers_equal_pytorch_grad_cam():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("gradcam", "map_value", seed)
        p = item.params
        want = float(_library_map(p["a"], p["g"])[p["i"], p["j"]])
        assert abs(item.answer - want) < 1e-9
        assert item.choices[item.correct_index].label["en"] == f"{want:.3f}"
        impl = P.make("gradcam", "implementation", seed)
        np.testing.assert_allclose(impl.exec.expected, _library_map(impl.params["a"], impl.params["g"]), atol=1e-12)


def test_practice_last_layer_alpha_is_the_autograd_gradient_mean():
    """α_k at the last layer of GAP + nn.Linear, by autograd through torch's own modules."""
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("gradcam", "last_layer_alpha", seed)
        p = item.params
        fc = torch.nn.Linear(len(p["weights"]), 1).double()
        with torch.no_grad():
            fc.weight[0] = torch.tensor(p["weights"], dtype=torch.float64)
        a = torch.rand(1, len(p["weights"]), p["h"], p["w"], dtype=torch.float64, requires_grad=True)
        y = fc(torch.nn.AdaptiveAvgPool2d(1)(a).flatten(1))[0, 0]
        (g,) = torch.autograd.grad(y, a)
        want = float(g[0, p["channel"]].mean())
        assert abs(item.answer - want) < 1e-12
        assert item.choices[item.correct_index].label["en"] == f"{want:.4f}"


def test_practice_blank_expected_is_library_map_of_autograd_gradients():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("gradcam", "blank", seed)
        a = torch.tensor(item.params["a"], dtype=torch.float64, requires_grad=True)
        y = (torch.tensor(item.params["w"], dtype=torch.float64) * torch.nn.ReLU()(a)).sum()
        (g,) = torch.autograd.grad(y, a)
        np.testing.assert_allclose(item.exec.expected, _library_map(a.detach().numpy(), g.numpy()), atol=1e-12)


def test_practice_statement_last_layer_grad_cam_equals_cam(tiny, x16):
    """last_equal: at the last layer Grad-CAM's α = CAM's fc weight / Z and the scaled maps coincide (the page's
    engine on the tiny CNN); finer_deeper is false: the last layer's map is the coarsest."""
    last = C.conv_layers(tiny)[-1]
    g = G.layer_cam(tiny, last, x16, 2, "gradcam")
    c = G.layer_cam(tiny, last, x16, 2, "cam")
    z = g.cam.size
    np.testing.assert_allclose(g.weights, c.weights / z, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g.heatmap, c.heatmap, atol=1e-4)
    shapes = G.layer_shapes(tiny, x16)
    assert shapes[last][-1] <= min(s[-1] for s in shapes.values())
