"""Centre-ness, focal loss and FPN levels against torchvision; the fcos page in both languages."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import sigmoid_focal_loss
from torchvision.ops.poolers import LevelMapper

from conftest import assert_ok, run_page
from engine.detection import fcos as F


def test_centerness_equals_torchvision_formula_and_hand_cases():
    d = np.random.default_rng(0).uniform(0.1, 50, (200, 4))
    t = torch.tensor(d)
    lr, tb = t[:, [0, 2]], t[:, [1, 3]]
    want = torch.sqrt((lr.min(-1)[0] / lr.max(-1)[0]) * (tb.min(-1)[0] / tb.max(-1)[0])).numpy()
    np.testing.assert_allclose(F.centerness(d), want, rtol=1e-12)
    assert F.centerness([5, 3, 5, 3]) == 1.0                       # centre
    assert F.centerness([0, 3, 10, 3]) == 0.0                      # on the border
    assert F.centerness([-1, 3, 10, 3]) == 0.0                     # outside
    assert F.centerness([1, 1, 4, 1]) == pytest.approx(0.5)        # √(1/4 · 1)


def test_centerness_map_peaks_at_the_box_centre():
    m = F.centerness_map((16, 8, 48, 40), 64, 64, step=4)
    assert m.value.shape == (16, 16)
    i, j = np.unravel_index(np.nanargmax(m.value), m.value.shape)
    assert (m.xs[j], m.ys[i]) in {(30, 22), (34, 26), (30, 26), (34, 22)}
    assert np.isnan(m.value[0, 0]) and np.nanmin(m.value) > 0


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (0.5, 0.0), (-1, 1.5), (0.9, 5.0)])
def test_focal_loss_equals_torchvision(alpha, gamma):
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 4, 500), (rng.uniform(size=500) < 0.3).astype(float)
    want = sigmoid_focal_loss(torch.tensor(x), torch.tensor(y), alpha, gamma, reduction="none").numpy()
    np.testing.assert_allclose(F.focal_loss(x, y, alpha, gamma), want, rtol=1e-9, atol=1e-12)


def test_focal_curve_and_imbalance():
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(F.focal_curve(p, 0.0), -np.log(p))             # γ = 0 is cross-entropy
    np.testing.assert_allclose(F.focal_curve(0.9, 2.0), 0.01 * -np.log(0.9))   # (1 − 0.9)² down-weighting
    im = F.imbalance(100_000, 0.99, 50, 0.3, gamma=2.0, alpha=0.25)
    assert im.ce_neg > im.ce_pos                  # with CE the easy negatives dominate the sum
    assert im.fl_neg < im.fl_pos                  # with focal loss the hard positives do
    x = np.array([np.log(0.3 / 0.7)] * 50 + [np.log(0.01 / 0.99)] * 1000)
    y = np.array([1.0] * 50 + [0.0] * 1000)
    fl = F.focal_loss(x, y, 0.25, 2.0)
    im2 = F.imbalance(1000, 0.99, 50, 0.3, 2.0, 0.25)
    assert fl[:50].sum() == pytest.approx(im2.fl_pos) and fl[50:].sum() == pytest.approx(im2.fl_neg)


def test_fpn_level_equals_level_mapper():
    rng = np.random.default_rng(2)
    wh = rng.uniform(4, 900, (300, 2))
    boxes = torch.tensor(np.concatenate([np.zeros((300, 2)), wh], 1))
    want = LevelMapper(2, 5)([boxes]).numpy() + 2
    np.testing.assert_array_equal(F.fpn_level(wh[:, 0], wh[:, 1]), want)
    assert F.fpn_level(224, 224) == 4 and F.fpn_level(112, 112) == 3 and F.fpn_level(448, 448) == 5


def test_fcos_levels_by_brute_force():
    box = (10.0, 20.0, 300.0, 180.0)
    levels = F.fcos_levels(box)
    assert [lv.stride for lv in levels] == [8, 16, 32, 64, 128]
    for lv in levels:
        for (x, y), m, pos in zip(lv.points, lv.max_dist, lv.positive):
            d = [x - 10, y - 20, 300 - x, 180 - y]
            assert min(d) > 0 and m == max(d) and pos == (lv.lo < max(d) <= lv.hi)
            assert (x - lv.stride // 2) % lv.stride == 0
        n_inside = sum(1 for x in np.arange(lv.stride // 2, 400, lv.stride)
                       for y in np.arange(lv.stride // 2, 400, lv.stride) if 10 < x < 300 and 20 < y < 180)
        assert len(lv.points) == n_inside
    # a box of side ~290 px: its locations have max distance in (145, 290) → only P5 (128, 256] and P6 (256, 512]
    assert {lv.level for lv in levels if lv.positive.any()} <= {5, 6}


def test_simulated_predictions_centerness_reranks():
    box = (20.0, 20.0, 220.0, 180.0)
    ious_cls, ious_ctr = [], []
    for seed in range(5):
        p = F.simulate_predictions(box, 8, np.random.default_rng(seed))
        assert len(p.cls) == 25 * 20
        np.testing.assert_allclose(p.ctr, F.centerness(F.ltrb(p.points, box)))
        ious_cls.append(p.iou[np.argsort(-p.cls)[:20]].mean())
        ious_ctr.append(p.iou[np.argsort(-p.cls * p.ctr)[:20]].mean())
    assert np.mean(ious_ctr) > np.mean(ious_cls) + 0.05


# ---------------------------------------------------------------------------------------------------- the page

PAGE = "pages/detection/fcos.py"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_level_and_focal_numbers_come_from_the_engine(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    (x1, x2), (y1, y2) = at.slider(key="fcos.box.x.320x213").value, at.slider(key="fcos.box.y.320x213").value
    s = 800 / 213
    assert any(m.value == f"P{int(F.fpn_level((x2 - x1) * s, (y2 - y1) * s))}" for m in at.metric)
    im = F.imbalance(100_000, 0.99, 100, 0.3, 2.0, 0.25)
    assert any(m.value == f"{100 * im.fl_neg / (im.fl_neg + im.fl_pos):.1f} %" for m in at.metric)
    # the level table counts positives exactly as the engine does
    rows = at.dataframe[0].value
    levels = F.fcos_levels(np.array([x1, y1, x2, y2]) * s)
    assert list(rows.iloc[:, -1]) == [int(lv.positive.sum()) for lv in levels]


def test_page_small_box_goes_to_fine_levels_and_tiny_box_has_no_locations():
    at = run_page(PAGE)
    at.slider(key="fcos.box.x.320x213").set_value((100.0, 130.0))
    at.slider(key="fcos.box.y.320x213").set_value((100.0, 124.0))
    at.slider(key="fcos.input_size").set_value(320).run()
    assert_ok(at)
    assert any(m.value in ("P2", "P3") for m in at.metric)
    at.slider(key="fcos.box.x.320x213").set_value((100.0, 104.0))
    at.slider(key="fcos.box.y.320x213").set_value((100.0, 104.0))
    at.select_slider(key="fcos.stride").set_value(32).run()
    assert_ok(at)
    assert at.info


def test_figures_stay_small_at_the_extremes():
    import plotly.graph_objects as go

    from engine.figures.detection import fcos as figs
    from ui.i18n import table
    lab = table("fcos.labels", "en")
    img = np.zeros((213, 320, 3), np.uint8)
    box = (0.0, 0.0, 320.0, 213.0)
    preds = F.simulate_predictions(box, 4, np.random.default_rng(0), 1.5)
    built = [figs.plot_fpn_levels(300, lab), figs.plot_fcos_levels(img, F.fcos_levels(np.array(box) * 6.3), box, 6.3, lab),
             figs.plot_focal_curves(5.0, 1.0, lab), figs.plot_imbalance(F.imbalance(10**6, 0.999, 1, 0.01, 5, 0), lab),
             figs.plot_centerness(img, F.centerness_map(box, 213, 320, 4), box, lab),
             figs.plot_rerank(img, preds, box, F.rerank(preds, 20), lab), figs.plot_score_vs_iou(preds, lab)]
    for fig in built:
        assert isinstance(fig, go.Figure) and len(fig.to_json()) < 2_000_000


def test_page_on_an_upload():
    import io
    from PIL import Image
    at = run_page(PAGE, lang="ja")
    at.radio(key="fcos.source").set_value("upload").run()
    assert_ok(at)
    assert at.info and not at.dataframe                  # nothing computed until a file arrives
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (500, 700, 3), dtype=np.uint8)).save(buf, "JPEG")
    at.file_uploader(key="fcos.file").upload("x.jpg", buf.getvalue(), "image/jpeg").run()
    assert_ok(at)
    assert at.slider(key="fcos.box.x.320x229").max == 320   # the working image: longer side 320 px


def test_rerank_against_torchvision_nms_and_a_brute_force_sort():
    import torch
    import torchvision

    box = (40.0, 30.0, 200.0, 170.0)
    preds = F.simulate_predictions(box, 8, np.random.default_rng(2), 0.8)
    rk = F.rerank(preds, 5, iou_threshold=0.6)
    for score, top, nms_iou in ((preds.cls, rk.top_cls, rk.iou_nms_cls),
                                (preds.cls * preds.ctr, rk.top_ctr, rk.iou_nms_ctr)):
        brute = sorted(range(len(score)), key=lambda i: (-score[i], i))[:5]
        assert list(top) == brute
        kept = torchvision.ops.nms(torch.tensor(preds.boxes), torch.tensor(score), 0.6)
        assert nms_iou == pytest.approx(float(preds.iou[int(kept[0])]))
    assert rk.iou_top_cls == pytest.approx(preds.iou[rk.top_cls].mean())


def test_box_level_and_imbalance_shares():
    bl = F.box_level((0, 0, 112, 112), short_side=448, image_h=224, image_w=300)   # ×2 → 224 px: level k0 = 4
    assert (bl.width, bl.height, bl.side, bl.level) == (224.0, 224.0, 224.0, 4)
    im = F.imbalance(100_000, 0.99, 100, 0.3, gamma=2.0, alpha=0.25)
    assert im.neg_share_ce == pytest.approx(im.ce_neg / (im.ce_neg + im.ce_pos))
    assert im.down_weight == pytest.approx(0.01 ** 2)
    assert im.neg_share_fl < im.neg_share_ce                 # focal loss takes the weight off easy negatives


# ---- practice items: answers recomputed from the numbers shown, by torchvision and the paper's formulas
def test_practice_answers_equal_torchvision():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("fcos", "focal_value", seed)
        p = it.params
        logit = torch.logit(torch.tensor([p["p"]], dtype=torch.float64))
        want = float(sigmoid_focal_loss(logit, torch.tensor([float(p["y"])], dtype=torch.float64), p["alpha"],
                                        p["gamma"], reduction="none"))
        assert abs(it.answer - want) < 1e-12 and it.choices[it.correct_index].label["en"] == f"{want:.4f}"
        it = P.make("fcos", "focal_blank", seed)
        p = it.params
        want = sigmoid_focal_loss(torch.tensor(p["logits"]), torch.tensor(p["targets"]), p["alpha"], p["gamma"],
                                  reduction="none").numpy()
        np.testing.assert_allclose(it.exec.expected, want, atol=1e-12)
        it = P.make("fcos", "centerness_value", seed)
        (x0, y0, x1, y1), x, y = it.params["box"], it.params["x"], it.params["y"]
        l, t, r, b = x - x0, y - y0, x1 - x, y1 - y                                  # Tian et al. 2019, Eq. 3
        want = np.sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b))
        assert abs(it.answer - want) < 1e-12 and it.choices[it.correct_index].label["en"] == f"{want:.3f}"
        it = P.make("fcos", "fpn_level", seed)
        box, short = np.array(it.params["box"], dtype=np.float64), it.params["short"]
        scaled = torch.tensor(box[None] * short / 213)                                # shorter side 213 → short
        assert it.answer == int(LevelMapper(2, 5)([scaled])[0]) + 2


def test_practice_statements_hold_on_cases():
    """γ = 0 is the α-balanced CE; a larger γ shrinks easy examples' loss far more than hard ones'; α weights the
    positives; centre-ness is 1 at the centre, ~0 near the border."""
    x = torch.tensor([3.0, -3.0, 0.2], dtype=torch.float64)           # easy positive, easy negative (y=0), hard
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none")
    torch.testing.assert_close(sigmoid_focal_loss(x, y, 0.25, 0.0, reduction="none"),
                               ce * torch.tensor([0.25, 0.75, 0.25], dtype=torch.float64))
    g0, g2 = (sigmoid_focal_loss(x, y, -1, g, reduction="none") for g in (0.0, 2.0))
    assert (g2 / g0)[0] < 0.01 and (g2 / g0)[2] > 0.1                 # easy_down
    pos = sigmoid_focal_loss(x[:1], y[:1], 0.25, 2.0, reduction="none")
    neg = sigmoid_focal_loss(-x[:1], 1 - y[:1], 0.25, 2.0, reduction="none")
    assert torch.isclose(neg / pos, torch.tensor(3.0, dtype=torch.float64))       # alpha_pos: 0.75 vs 0.25
    assert F.centerness([10, 20, 10, 20]) == 1 and F.centerness([0.01, 20, 30, 20]) < 0.05


def test_practice_case_opens_on_the_page():
    """"Open this case": the FPN item's setup as query parameters gives the page the item's box, input size and
    level."""
    from streamlit.testing.v1 import AppTest

    from conftest import ROOT
    from engine.common import practice as P
    it = P.make("fcos", "fpn_level", 5)
    at = AppTest.from_file(str(ROOT / "pages/detection/fcos.py"), default_timeout=120)
    at.query_params["lang"] = "en"
    for k, v in it.setup.items():
        at.query_params[k] = [str(x) for x in v] if isinstance(v, list) else str(v)
    at.run()
    assert_ok(at)
    assert at.slider(key="fcos.input_size").value == it.params["short"]
    assert next(m for m in at.metric if m.label == "FPN level").value == f"P{int(it.answer)}"
