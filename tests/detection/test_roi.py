"""RoIPool and RoIAlign against torchvision.ops; Mask R-CNN shapes; the roi page in both languages."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision import ops

from conftest import assert_ok, run_page
from engine.detection import roi as R


def _tv_pool(f, box, size, scale):
    return ops.roi_pool(torch.tensor(f, dtype=torch.float32)[None], [torch.tensor([box], dtype=torch.float32)],
                        size, scale)[0].numpy()


def _tv_align(f, box, size, scale, sr, aligned):
    return ops.roi_align(torch.tensor(f, dtype=torch.float32)[None], [torch.tensor([box], dtype=torch.float32)],
                         size, scale, sr, aligned)[0].numpy()


BOXES = [
    (3.3, 2.7, 20.6, 14.2),       # fractional, inside
    (-4.0, -3.5, 9.5, 6.5),       # hanging off the top-left (x.5 rounds away from zero)
    (10.2, 5.1, 40.0, 30.0),      # past the bottom-right border
    (7.0, 7.0, 7.4, 7.2),         # smaller than a cell
    (12.5, 4.5, 13.5, 9.5),       # halves exactly
]


@pytest.mark.parametrize("box", BOXES)
@pytest.mark.parametrize("size,scale", [((7, 7), 1.0), ((3, 5), 0.5), ((2, 2), 0.25)])
def test_roi_pool_equals_torchvision(box, size, scale):
    f = np.random.default_rng(0).standard_normal((3, 16, 24))
    box = [v / scale for v in box]
    np.testing.assert_allclose(R.roi_pool(f, box, size, scale).output, _tv_pool(f, box, size, scale),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("box", BOXES)
@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sr", [-1, 0, 1, 2, 3])
@pytest.mark.parametrize("size,scale", [((7, 7), 1.0), ((3, 5), 0.5)])
def test_roi_align_equals_torchvision(box, aligned, sr, size, scale):
    f = np.random.default_rng(1).standard_normal((2, 16, 24))
    box = [v / scale for v in box]
    np.testing.assert_allclose(R.roi_align(f, box, size, scale, sr, aligned).output,
                               _tv_align(f, box, size, scale, sr, aligned), rtol=1e-4, atol=1e-5)


def test_bilinear_is_exact_on_a_plane_and_at_cell_centres():
    y, x = np.mgrid[0:6, 0:9].astype(float)
    f = (2 * x - 3 * y + 1)[None]
    px, py = np.array([0.25, 3.7, 7.5]), np.array([0.5, 2.2, 4.9])
    val, valid = R.bilinear(f, px, py)
    np.testing.assert_allclose(val[0], 2 * px - 3 * py + 1)
    assert valid.all()
    np.testing.assert_allclose(R.bilinear(f, np.array([4.0]), np.array([3.0]))[0][0], f[0, 3, 4])


def test_roi_align_points_and_pool_bins_describe_the_computation():
    f = R.synthetic_features(12, 16)
    a = R.roi_align(f, (2.3, 1.6, 10.9, 8.2), (2, 3), 1.0, 2, aligned=True)
    assert a.points.shape == (2, 3, 2, 2, 2)
    # aligned=True: the sample grid is centred in the RoI (in cell coordinates)
    np.testing.assert_allclose(a.points[..., 0].mean(), (2.3 + 10.9) / 2)
    np.testing.assert_allclose(a.points[..., 1].mean(), (1.6 + 8.2) / 2)
    p = R.roi_pool(f, (2.3, 1.6, 10.9, 8.2), (2, 3), 1.0)
    np.testing.assert_array_equal(p.roi_cells, [2, 2, 11, 8])
    for i in range(2):
        for j in range(3):
            x0, y0, x1, y1 = p.bins[i, j]
            assert p.output[0, i, j] == f[0, y0:y1, x0:x1].max()


def test_shift_sweep_pool_jumps_align_is_smooth():
    f = R.synthetic_features(16, 16)
    shifts = np.linspace(0, 1, 21)
    sw = R.shift_sweep(f, (3.2, 4.1, 9.3, 11.7), (2, 2), shifts)
    dp = np.abs(np.diff(sw.pool.mean(axis=(1, 2, 3))))
    da = np.abs(np.diff(sw.align.mean(axis=(1, 2, 3))))
    assert (dp == 0).sum() >= 15 and dp.max() > 3 * da.max()   # flat, then a jump
    assert (da > 0).all()                                        # always moving


def test_mobilenet_trunk_features():
    trunk = R.mobilenet_v2_trunk()
    img = (np.random.default_rng(0).uniform(0, 255, (64, 96, 3))).astype(np.uint8)
    f = R.cnn_features(trunk, img)
    assert f.shape == (32, 8, 12) and np.isfinite(f).all() and f.std() > 0


def test_maskrcnn_shapes():
    torch.manual_seed(0)
    model = R.maskrcnn_untrained(min_size=128, max_size=256)
    img = np.zeros((120, 160, 3), np.uint8)
    res = R.maskrcnn_shapes(model, img, (10, 20, 90, 100))
    shapes = {s.name: s.shape for s in res.stages}
    assert shapes["roi_heads.box_roi_pool"] == (1, 256, 7, 7)
    assert shapes["roi_heads.box_predictor.cls_score"] == (1, 91)
    assert shapes["roi_heads.box_predictor.bbox_pred"] == (1, 364)
    assert shapes["roi_heads.mask_predictor"] == (1, 91, 28, 28)
    assert shapes["transform"] == (1, 3, 128, 192)             # 120×160 → 128×170, padded to /32
    assert shapes["backbone.fpn['0']"][2:] == (32, 48)        # P2: stride 4
    # the RoI scaled by 128/120 → √(wh)≈85 px: k = ⌊4 + log2(85/224)⌋ = 2
    # per-axis ratios, as torchvision's resize_boxes: 160 → 170 wide, 120 → 128 high
    np.testing.assert_allclose(res.roi, np.array([10, 20, 90, 100]) * np.tile([170 / 160, 128 / 120], 2), rtol=1e-6)
    assert res.level == 2


# ---------------------------------------------------------------------------------------------------- the page

PAGE = "pages/detection/roi.py"


def _oracle_errors(at) -> list[float]:
    import re
    text = next(c.value for c in at.caption if "torchvision.ops" in c.value)
    return [float(v) for v in re.findall(r"= ([0-9.]+e[-+][0-9]+)", text)]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_defaults_match_torchvision_live(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    errs = _oracle_errors(at)
    assert len(errs) == 2 and max(errs) < 1e-5
    assert at.warning                                   # says plainly that no detection weights ship
    shapes = {r["module" if lang == "en" else "モジュール"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert "roi_heads.mask_predictor" in shapes


def test_page_with_cnn_features_on_an_upload():
    import io
    from PIL import Image
    at = run_page(PAGE)
    at.radio(key="roi.features").set_value("cnn").run()
    assert_ok(at)
    assert at.slider(key="roi.channel").value == 7
    at.slider(key="roi.shift").set_value(0.55)
    at.toggle(key="roi.aligned").set_value(False).run()
    assert_ok(at)
    assert max(_oracle_errors(at)) < 1e-4
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (70, 120, 3), dtype=np.uint8)).save(buf, "PNG")
    at.radio(key="roi.source").set_value("upload").run()
    at.file_uploader(key="roi.file").upload("x.png", buf.getvalue(), "image/png").run()
    assert_ok(at)
    assert max(_oracle_errors(at)) < 1e-4


def test_figures_stay_small_and_the_graph_names_every_stage():
    import plotly.graph_objects as go

    from engine.figures.detection import roi as figs
    from ui.i18n import table
    lab = table("roi.labels", "en")
    f = R.synthetic_features(40, 60)
    box = (0.0, 0.0, 480.0, 320.0)
    pool, align = R.roi_pool(f, box, 7, 1 / 8), R.roi_align(f, box, 7, 1 / 8, 4, True)
    sweep = R.shift_sweep(f, box, 7, np.linspace(0, 2, 81), 1 / 8, 4)
    for fig in (figs.plot_roi_grids(f[0], pool, align, np.array(box) / 8, lab),
                figs.plot_outputs(pool.output[0], align.output[0], lab), figs.plot_shift_sweep(sweep, 0.5, lab)):
        assert isinstance(fig, go.Figure) and len(fig.to_json()) < 2_000_000
    stages = [R.Stage(n, (1, 2), g) for n, g in [
        ("image", "input"), ("transform", "input"), *[(f"backbone.fpn['{k}']", "backbone") for k in "0123"],
        ("backbone.fpn['pool']", "backbone"), ("rpn.head.cls_logits (P2)", "rpn"), ("rpn.head.bbox_pred (P2)", "rpn"),
        ("roi_heads.box_roi_pool", "box"), ("roi_heads.box_head", "box"), ("roi_heads.box_predictor.cls_score", "box"),
        ("roi_heads.box_predictor.bbox_pred", "box"), ("roi_heads.mask_roi_pool", "mask"),
        ("roi_heads.mask_head", "mask"), ("roi_heads.mask_predictor", "mask")]]
    dot = figs.maskrcnn_dot(stages, 3, lab)
    assert all(s.name in dot for s in stages) and "RoIAlign (P3)" in dot
    assert dot.count("->") == 1 + 5 + 2 + 2 + 5


def test_check_with_torchvision_reports_tiny_errors():
    f = R.synthetic_features(20, 24)
    chk = R.check_with_torchvision(f, (13.0, 9.5, 97.2, 71.0), 7, 1 / 8, 2, True)
    assert chk.pool < 1e-5 and chk.align < 1e-5


def test_the_image_and_the_feature_map_show_the_same_roi():
    from engine.figures.detection import roi as figs

    img = np.zeros((96, 128, 3), np.uint8)
    box = (20.0, 12.0, 84.0, 70.0)
    lab = {k: k for k in ("cells", "roi", "image_title", "feature_title", "x_cells", "y_cells")}
    on_image = figs.plot_roi_on_image(img, box, 8, lab)
    roi_trace = next(tr for tr in on_image.data if tr.name == "roi")
    assert (min(roi_trace.x), min(roi_trace.y), max(roi_trace.x), max(roi_trace.y)) == box
    fmap = figs.plot_feature_map(np.zeros((12, 16)), np.asarray(box) / 8, lab)
    r = fmap.layout.shapes[0]
    assert (r.x0, r.y0, r.x1, r.y1) == (2.5, 1.5, 10.5, 8.75)                 # the same RoI in cells


# ---- practice items: answers recomputed from the numbers shown, by torchvision (never the generator's code)
def _head_shapes(K: int) -> dict:
    """Per-RoI output shapes of torchvision's Mask R-CNN heads with K classes, run on 2 RoIs of a small image."""
    from torchvision.models.detection import maskrcnn_resnet50_fpn
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
    from torchvision.models.detection.mask_rcnn import MaskRCNNPredictor

    torch.manual_seed(0)
    model = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=128, max_size=128).eval()
    heads = model.roi_heads
    heads.box_predictor, heads.mask_predictor = FastRCNNPredictor(1024, K), MaskRCNNPredictor(256, 256, K)
    with torch.inference_mode():
        images, _ = model.transform([torch.zeros(3, 128, 128)])
        feats = model.backbone(images.tensors)
        props = [torch.tensor([[8.0, 8.0, 60.0, 70.0], [30.0, 20.0, 120.0, 100.0]])]
        pooled = heads.box_roi_pool(feats, props, images.image_sizes)
        rep = heads.box_head(pooled)
        cls, reg = heads.box_predictor(rep)
        mpooled = heads.mask_roi_pool(feats, props, images.image_sizes)
        masks = heads.mask_predictor(heads.mask_head(mpooled))
    return {"box_roi_pool": pooled.shape, "box_head": rep.shape, "cls_score": cls.shape, "bbox_pred": reg.shape,
            "mask_roi_pool": mpooled.shape, "mask_predictor": masks.shape}


@pytest.mark.slow
def test_practice_answers_equal_torchvision():
    from engine.common import practice as P
    shapes = {}
    for seed in range(200):
        it = P.make("roi", "bilinear_value", seed)
        f, x, y = (it.params[k] for k in ("f", "x", "y"))
        # one sample at (x, y): a 1×1 bin centred there, sampling_ratio 1, the original (aligned=False) grid
        box = torch.tensor([[0, x - 0.5, y - 0.5, x + 0.5, y + 0.5]], dtype=torch.float64)
        want = float(ops.roi_align(torch.tensor(f)[None, None], box, 1, 1.0, 1, aligned=False)[0, 0, 0, 0])
        assert abs(it.answer - want) < 1e-12 and it.choices[it.correct_index].label["en"] == f"{want:.4f}"
        it = P.make("roi", "bilinear_implementation", seed)
        f, x, y = (it.params[k] for k in ("f", "x", "y"))
        box = torch.tensor([[0, x - 0.5, y - 0.5, x + 0.5, y + 0.5]], dtype=torch.float64)
        assert abs(it.exec.expected - float(ops.roi_align(torch.tensor(f)[None, None], box, 1, 1.0, 1)[0, 0, 0, 0])) < 1e-12
        it = P.make("roi", "roipool_bin", seed)
        p = it.params
        out = ops.roi_pool(torch.tensor(p["f"])[None, None], [torch.tensor([p["box"]], dtype=torch.float64)], 2, 1 / 8)
        assert it.answer == float(out[0, 0, p["i"], p["j"]])
        it = P.make("roi", "head_shape", seed)
        p = it.params
        if p["K"] not in shapes:
            shapes[p["K"]] = _head_shapes(p["K"])
        want = (p["R"], *shapes[p["K"]][p["stage"]][1:])
        assert tuple(p["shape"]) == want and it.choices[it.correct_index].label["en"] == str(want)


def test_practice_statements_hold_on_cases():
    """A sub-pixel move can flip RoIPool's output (pool_exact is false), RoIAlign's moves smoothly, RoIPool takes
    the max (not the mean) of its bins."""
    f = torch.zeros(1, 1, 6, 6, dtype=torch.float64)
    f[..., 1] = 10.0                                               # a bright column at x = 1
    f[..., 2:] = torch.arange(24, dtype=torch.float64).reshape(6, 4) / 4
    a = ops.roi_pool(f, [torch.tensor([[11.9, 8.0, 40.0, 40.0]], dtype=torch.float64)], 2, 1 / 8)
    b = ops.roi_pool(f, [torch.tensor([[12.1, 8.0, 40.0, 40.0]], dtype=torch.float64)], 2, 1 / 8)
    assert not torch.equal(a, b)                                   # 0.2 px changes RoIPool's output
    c = ops.roi_align(f, torch.tensor([[0, 11.9, 8.0, 40.0, 40.0]], dtype=torch.float64), 2, 1 / 8, 2, True)
    d = ops.roi_align(f, torch.tensor([[0, 12.1, 8.0, 40.0, 40.0]], dtype=torch.float64), 2, 1 / 8, 2, True)
    assert (c - d).abs().max() < 0.05 * (a - b).abs().max()
    whole = ops.roi_pool(f, [torch.tensor([[0.0, 0.0, 47.0, 47.0]], dtype=torch.float64)], 1, 1 / 8)
    assert float(whole) == float(f.max())                          # max, not mean
