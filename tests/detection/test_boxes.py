"""IoU, NMS, anchors and box coding against torchvision; the boxes page in both languages."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision import ops
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator, DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList

from conftest import assert_ok, run_page
from engine.detection import boxes as B


def random_boxes(rng, n, size=100.0):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(1, size / 2, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


def test_box_iou_equals_torchvision():
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 7), random_boxes(rng, 5)
    want = ops.box_iou(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(B.box_iou(a, b), want, rtol=1e-12)
    assert (want > 0).any() and (want == 0).any()   # both overlapping and disjoint pairs are covered


def test_iou_parts_by_hand():
    p = B.iou_parts([0, 0, 2, 2], [1, 1, 3, 3])
    assert (p.inter, p.union) == (1.0, 7.0) and p.iou == pytest.approx(1 / 7)
    np.testing.assert_array_equal(p.intersection, [1, 1, 2, 2])
    apart = B.iou_parts([0, 0, 1, 1], [5, 5, 6, 6])
    assert apart.inter == 0 and apart.iou == 0
    assert B.iou_parts([3, 3, 3, 3], [3, 3, 3, 3]).iou == 0   # empty union: 0, not nan


@pytest.mark.parametrize("thr", [0.1, 0.3, 0.5, 0.7])
def test_nms_equals_torchvision(thr):
    rng = np.random.default_rng(1)
    boxes = random_boxes(rng, 60)
    scores = rng.permutation(60) / 60 + 0.01          # distinct scores: the order is unambiguous
    want = ops.nms(torch.tensor(boxes), torch.tensor(scores), thr).numpy()
    np.testing.assert_array_equal(B.nms(boxes, scores, thr), want)


def test_batched_nms_equals_torchvision_and_differs_from_agnostic():
    rng = np.random.default_rng(2)
    scene = B.jitter_scene([[10, 10, 60, 60], [20, 15, 70, 65]], 12, rng)
    want = ops.batched_nms(torch.tensor(scene.boxes), torch.tensor(scene.scores), torch.tensor(scene.labels),
                           0.5).numpy()
    got = B.batched_nms(scene.boxes, scene.scores, scene.labels, 0.5)
    np.testing.assert_array_equal(np.sort(got), np.sort(want))
    # two heavily overlapping objects of different classes: class-agnostic NMS loses one of them
    agnostic = B.nms(scene.boxes, scene.scores, 0.5)
    assert set(scene.labels[got]) == {0, 1} and len(agnostic) < len(got)


def test_nms_steps_are_consistent():
    rng = np.random.default_rng(3)
    boxes, scores = random_boxes(rng, 30), rng.uniform(size=30)
    steps = B.nms_steps(boxes, scores, 0.4)
    seen = [s.keep for s in steps] + [int(i) for s in steps for i in s.suppressed]
    assert sorted(seen) == list(range(30))           # every box is kept or suppressed exactly once
    for s in steps:
        assert (s.ious > 0.4).all()
        assert all(scores[s.keep] >= scores[i] for i in s.suppressed)


def test_yolo_scores():
    y = B.yolo_scores(0.8, [0.5, 0.3, 0.2], 0.6)
    assert y.confidence == pytest.approx(0.48)
    np.testing.assert_allclose(y.class_scores, [0.24, 0.144, 0.096])


@pytest.mark.parametrize("fs,stride", [((3, 4), 16), ((5, 2), (8, 32))])
def test_make_anchors_equals_anchor_generator(fs, stride):
    scales, ratios = (32, 64, 128), (0.5, 1.0, 2.0)
    gen = AnchorGenerator(sizes=(scales,), aspect_ratios=(ratios,))
    sy, sx = (stride, stride) if np.isscalar(stride) else stride
    img = ImageList(torch.zeros(1, 3, fs[0] * sy, fs[1] * sx), [(fs[0] * sy, fs[1] * sx)])
    want = gen(img, [torch.zeros(1, 8, *fs)])[0].numpy()
    got = B.make_anchors(fs, stride, scales, ratios)
    assert got.shape == (fs[0] * fs[1] * 9, 4)
    np.testing.assert_allclose(got, want)
    # offset 0.5 moves every anchor by half a cell
    np.testing.assert_allclose(B.make_anchors(fs, stride, scales, ratios, offset=0.5) - got,
                               np.tile([sx / 2, sy / 2, sx / 2, sy / 2], (len(got), 1)))


def test_ssd300_default_boxes_equal_torchvision_and_count_8732():
    ar = [[2], [2, 3], [2, 3], [2, 3], [2], [2]]
    fs = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)]
    scales = [0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05]
    got = B.ssd_default_boxes(fs, (300, 300), ar, scales=scales)
    assert len(got.boxes) == 8732 and list(got.per_location) == [4, 6, 6, 6, 4, 4]
    gen = DefaultBoxGenerator(ar, scales=scales)
    img = ImageList(torch.zeros(1, 3, 300, 300), [(300, 300)])
    want = gen(img, [torch.zeros(1, 1, *f) for f in fs])[0].double().numpy()
    np.testing.assert_allclose(got.boxes, want, atol=1e-3)
    # default scales from s_min, s_max
    got2 = B.ssd_default_boxes(fs[:3], (200, 300), ar[:3])
    want2 = DefaultBoxGenerator(ar[:3])(ImageList(torch.zeros(1, 3, 200, 300), [(200, 300)]),
                                        [torch.zeros(1, 1, *f) for f in fs[:3]])[0].double().numpy()
    np.testing.assert_allclose(got2.boxes, want2, atol=1e-3)


def test_label_anchors_equals_matcher():
    anchors = B.make_anchors((6, 8), 16, (32, 64, 128), (0.5, 1, 2), offset=0.5)
    gt = np.array([[20, 30, 90, 80], [60, 10, 120, 100.0]])
    got = B.label_anchors(anchors, gt)
    m = det_utils.Matcher(0.7, 0.3, allow_low_quality_matches=True)(
        ops.box_iou(torch.tensor(gt), torch.tensor(anchors))).numpy()
    want = np.where(m >= 0, 1, np.where(m == det_utils.Matcher.BELOW_LOW_THRESHOLD, 0, -1))
    np.testing.assert_array_equal(got.labels, want)
    assert got.n_pos + got.n_neg + got.n_ignored == len(anchors) and got.n_neg > 10 * got.n_pos > 0


def test_encode_decode_equal_box_coder_and_invert():
    rng = np.random.default_rng(4)
    anchors, gt = random_boxes(rng, 20), random_boxes(rng, 20)
    w = (10.0, 10.0, 5.0, 5.0)
    coder = det_utils.BoxCoder(w)
    want = coder.encode_single(torch.tensor(gt), torch.tensor(anchors)).numpy()
    d = B.encode(anchors, gt, w)
    np.testing.assert_allclose(d, want, rtol=1e-10)
    np.testing.assert_allclose(B.decode(anchors, d, w), gt, atol=1e-9)
    dec = coder.decode_single(torch.tensor(d), torch.tensor(anchors)).numpy()
    np.testing.assert_allclose(B.decode(anchors, d, w), dec, atol=1e-9)
    # by hand: same box → zero targets; twice as wide, shifted by its width → (1, 0, log 2, 0)
    np.testing.assert_allclose(B.encode([[0, 0, 10, 10]], [[5, 0, 25, 10]]), [[1, 0, np.log(2), 0]])


def test_class_probabilities_normalise_the_sliders():
    np.testing.assert_allclose(B.class_probabilities([0.7, 0.2, 0.1]), [0.7, 0.2, 0.1])
    np.testing.assert_allclose(B.class_probabilities([2, 1, 1]), [0.5, 0.25, 0.25])
    np.testing.assert_allclose(B.class_probabilities([0, 0, 0]), [1 / 3] * 3)
    assert B.class_probabilities([0.3, 0.9, 0.05]).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("thr,classwise", [(0.2, True), (0.2, False), (0.6, True), (0.9, False)])
def test_nms_run_counts_equal_torchvision_and_a_brute_force(thr, classwise):
    scene = B.jitter_scene([[10, 10, 60, 60], [15, 12, 64, 62]], 10, np.random.default_rng(5))
    run = B.nms_run(scene, thr, classwise, n_classes=2)
    bx, sc, lb = (torch.tensor(v) for v in (scene.boxes, scene.scores, scene.labels))
    cw, ag = ops.batched_nms(bx, sc, lb, thr).numpy(), ops.nms(bx, sc, thr).numpy()
    assert sorted(run.kept_classwise) == sorted(cw) and list(run.kept_agnostic) == list(ag)
    assert (run.n_kept_classwise, run.n_kept_agnostic, run.n_candidates) == (len(cw), len(ag), 20)
    for kept, per in ((cw, run.per_class_classwise), (ag, run.per_class_agnostic)):
        assert list(per) == [sum(1 for i in kept if scene.labels[i] == c) for c in range(2)]
    assert list(run.lost_agnostic) == [c for c in range(2) if c not in set(scene.labels[ag])]
    assert run.n_steps == len(run.steps) == (len(cw) if classwise else len(ag))


@pytest.mark.parametrize("size,stride", [((213, 320), 16), ((50, 90), 32), ((100, 100), 8)])
def test_rpn_anchors_by_brute_force(size, stride):
    gt = np.array([[20.0, 10.0, 70.0, 45.0]])
    scales, ratios = (32, 64), (0.5, 1.0, 2.0)
    an = B.rpn_anchors(size, stride, scales, ratios, gt, 0.6, 0.3)
    assert an.feature_size == tuple(int(np.ceil(v / stride)) for v in size)
    assert an.per_location == 6 and (an.n_scales, an.n_ratios) == (2, 3)
    want = B.make_anchors(an.feature_size, stride, scales, ratios, offset=0.5)
    np.testing.assert_array_equal(an.anchors, want)
    assert an.n_anchors == an.feature_size[0] * an.feature_size[1] * 6 == len(want)
    lab = B.label_anchors(want, gt, 0.6, 0.3)
    np.testing.assert_array_equal(an.labels.labels, lab.labels)
    assert an.neg_per_pos == lab.n_neg / max(lab.n_pos, 1)
    pos = [i for i in range(len(want)) if lab.labels[i] == 1]
    assert sorted(an.ranked.tolist()) == sorted(pos)
    assert all(lab.max_iou[i] >= lab.max_iou[j] for i, j in zip(an.ranked, an.ranked[1:]))
    for k in (0, len(want) // 2, len(want) - 1):
        assert tuple(an.sizes[k]) == (want[k, 2] - want[k, 0], want[k, 3] - want[k, 1])


def test_box_targets_encode_and_decode_back():
    tg = B.box_targets([0, 0, 10, 10], [5, 0, 25, 10])
    np.testing.assert_allclose(tg.t, [1, 0, np.log(2), 0])
    np.testing.assert_allclose(tg.decoded, [5, 0, 25, 10])


def test_ssd_boxes_count_each_map_by_brute_force():
    gt = np.array([[64.0, 43.0, 192.0, 149.0]])
    ssd = B.ssd_boxes((213, 320), gt)
    assert ssd.n_boxes == 8732 == sum(ssd.boxes_per_level)
    for k, (fh, fw) in enumerate(B.SSD300_FEATURES):
        assert ssd.boxes_per_level[k] == fh * fw * ssd.default.per_location[k]
        assert ssd.matched_per_level[k] == sum(1 for i in range(ssd.n_boxes)
                                               if ssd.default.level[i] == k and ssd.labels.labels[i] == 1)
    assert ssd.n_matched == ssd.labels.n_pos == sum(ssd.matched_per_level) > 0


# ---------------------------------------------------------------------------------------------------- the page

PAGE = "pages/detection/boxes.py"


def _png(w, h):
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_shows_the_engine_iou(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    a = (at.slider(key="boxes.truth.x.320x213").value, at.slider(key="boxes.truth.y.320x213").value)
    b = (at.slider(key="boxes.pred.x.320x213").value, at.slider(key="boxes.pred.y.320x213").value)
    want = B.iou_parts([a[0][0], a[1][0], a[0][1], a[1][1]], [b[0][0], b[1][0], b[0][1], b[1][1]]).iou
    assert 0 < want < 1
    assert any(m.value == f"{want:.3f}" for m in at.metric)
    assert any(m.value == "8732" for m in at.metric) is False       # 8732 is in the caption, not a metric
    assert any("8732" in c.value for c in at.caption)
    an = B.rpn_anchors((213, 320), 16, (32, 64, 128), (0.5, 1.0, 2.0), [[a[0][0], a[1][0], a[0][1], a[1][1]]])
    assert any(m.value == str(an.n_anchors) for m in at.metric)
    imbalance = {"en": f"about **{an.neg_per_pos:.0f} negatives", "ja": f"約 **{an.neg_per_pos:.0f} 個**"}[lang]
    assert any(imbalance in m.value for m in at.markdown)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_says_when_a_box_is_widened_to_the_minimum(lang):
    """Issue 29: a zero-width box showed |A| = 424 (4 px × 106 px) with no word why. The widened size is said, and
    the area shown is that box's, computed by the engine."""
    from ui.detection import MIN_BOX

    at = run_page(PAGE, lang=lang)
    assert not any("4 px" in c.value or "4 × " in c.value for c in at.caption)
    at.slider(key="boxes.truth.x.320x213").set_value((100.0, 100.0)).run()
    assert_ok(at)
    y1, y2 = at.slider(key="boxes.truth.y.320x213").value
    said = [c.value for c in at.caption if f"{MIN_BOX} px" in c.value]
    assert len(said) == 1 and f"{MIN_BOX} × {y2 - y1:.0f}" in said[0]
    area = B.iou_parts([100.0, y1, 100.0 + MIN_BOX, y2], [0, 0, 1, 1]).area_a          # x widened to 100 … 104
    assert at.metric[0].value == f"{area:.0f}"


def test_page_agnostic_nms_loses_an_object_when_boxes_overlap():
    at = run_page(PAGE)
    at.slider(key="boxes.pred.x.320x213").set_value((64.0, 192.0))
    at.slider(key="boxes.pred.y.320x213").set_value((43.0, 149.0))   # same box as the truth
    at.slider(key="boxes.nms_threshold").set_value(0.2)
    at.radio(key="boxes.nms_mode").set_value("agnostic").run()
    assert_ok(at)
    assert at.warning, "class-agnostic NMS should remove one of two identical objects"
    at.radio(key="boxes.nms_mode").set_value("classwise").run()
    assert_ok(at)
    assert not at.warning


def test_page_on_an_upload_and_with_empty_choices():
    at = run_page(PAGE)
    at.radio(key="boxes.source").set_value("upload").run()
    at.file_uploader(key="boxes.file").upload("x.png", _png(90, 50), "image/png").run()
    assert_ok(at)
    assert at.slider(key="boxes.truth.x.90x50").max == 90
    at.multiselect(key="boxes.scales").set_value([]).run()
    assert_ok(at)
    assert at.info


def test_figures_stay_small_at_the_extremes():
    import plotly.graph_objects as go

    from engine.figures.detection import boxes as figs
    from ui.i18n import table
    lab = table("boxes.labels", "en")
    img = np.zeros((213, 320, 3), np.uint8)
    a, b = [0, 0, 320, 213], [10, 10, 300, 200]
    scene = B.jitter_scene([a, b], 20, np.random.default_rng(0))
    steps = B.nms_steps(scene.boxes, scene.scores, 0.95, scene.labels)
    anchors = B.make_anchors((27, 40), 8, (16, 32, 64, 128, 256), (0.25, 0.5, 1, 2, 4), offset=0.5)
    alab = B.label_anchors(anchors, np.array([a]), 0.0, 0.0)     # everything positive: the most rectangles
    fs = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)]
    d = B.ssd_default_boxes(fs, (213, 320), [[2], [2, 3], [2, 3], [2, 3], [2], [2]])
    slab = B.label_anchors(d.boxes, np.array([a]), 0.5, 0.5)
    built = [figs.plot_iou(img, a, b, B.iou_parts(a, b), lab),
             figs.plot_yolo(B.yolo_scores(1, [1, 0, 0], 1), ["a", "b", "c"], lab),
             figs.plot_nms(img, scene, steps, len(steps), ["a", "b"], lab),
             figs.plot_anchors(img, anchors, alab, 25, a, 0, lab), figs.plot_label_counts(alab, lab),
             figs.plot_ssd(img, d, fs, 0, a, slab, lab)]
    for fig in built:
        assert isinstance(fig, go.Figure) and len(fig.to_json()) < 2_000_000


# ---- practice items: answers recomputed from the numbers shown, by torchvision (never the generator's code)
def test_practice_answers_equal_torchvision():
    import torch
    from torchvision.ops import box_iou, nms

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("boxes", "iou_value", seed)
        a, b = (torch.tensor([item.params[k]], dtype=torch.float64) for k in "ab")
        want = float(box_iou(a, b)[0, 0])
        assert abs(item.answer - want) < 1e-12
        shown = item.choices[item.correct_index].label["en"]
        assert shown == f"{want:.3f}"
        impl = P.make("boxes", "iou_implementation", seed)
        a, b = (torch.tensor([impl.params[k]], dtype=torch.float64) for k in "ab")
        assert abs(impl.exec.expected - float(box_iou(a, b)[0, 0])) < 1e-12
        blank = P.make("boxes", "nms_blank", seed)
        p = blank.params
        keep = nms(torch.tensor(p["boxes"]), torch.tensor(p["scores"]), p["thr"]).tolist()
        assert list(blank.exec.expected) == keep


def test_practice_statements_hold_on_cases():
    """The statements the NMS item calls true are true on random scenes; the false ones fail on some scene."""
    import torch
    from torchvision.ops import batched_nms, nms

    rng = np.random.default_rng(0)
    fewer_at_low, agnostic_differs = False, False
    for _ in range(200):
        xy = rng.uniform(0, 100, (8, 2))
        boxes = torch.tensor(np.c_[xy, xy + rng.uniform(5, 40, (8, 2))])
        scores, labels = torch.tensor(rng.uniform(size=8)), torch.tensor(rng.integers(0, 2, 8))
        assert len(nms(boxes, scores, 0.7)) >= len(nms(boxes, scores, 0.5))        # higher_thr_keeps_more
        fewer_at_low |= len(nms(boxes, scores, 0.3)) < len(nms(boxes, scores, 0.5))
        agnostic_differs |= set(nms(boxes, scores, 0.5).tolist()) != set(batched_nms(boxes, scores, labels, 0.5).tolist())
        s = float(rng.uniform(0.5, 3))
        assert np.isclose(B.box_iou(boxes[:1].numpy() * s, boxes[1:2].numpy() * s), B.box_iou(boxes[:1], boxes[1:2]))
    assert fewer_at_low and agnostic_differs        # lower_thr_keeps_more and agnostic_same are false
