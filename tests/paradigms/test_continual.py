"""Continual learning: ACC/BWT on a hand-made matrix, exact replay of all past data = joint training, the replay
mixture by counting, the VAE's ELBO against its closed form, forgetting in class-incremental learning, and the page."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import assert_ok, run_page
from engine.paradigms import continual as cl

PAGE = "pages/paradigms/continual.py"
TINY = cl.Config(iters=20, batch_size=16, hidden=16, gen_hidden=16, snapshot_every=10, n_show=4)


@pytest.fixture(scope="module")
def data():
    return cl.split_digits(0)


def test_acc_and_bwt_on_a_hand_made_matrix():
    R = np.array([[0.9, 0.1, 0.0],
                  [0.5, 0.8, 0.2],
                  [0.3, 0.6, 0.7]])
    acc, bwt = cl.acc_bwt(R)
    assert acc == pytest.approx((0.3 + 0.6 + 0.7) / 3)
    assert bwt == pytest.approx(((0.3 - 0.9) + (0.6 - 0.8)) / 2)
    acc1, bwt1 = cl.acc_bwt(R, 1)
    assert acc1 == pytest.approx(0.65) and bwt1 == pytest.approx(0.5 - 0.9)
    acc0, bwt0 = cl.acc_bwt(R, 0)
    assert acc0 == pytest.approx(0.9) and np.isnan(bwt0)


def test_split_digits_are_five_disjoint_two_class_tasks(data):
    assert len(data.y_train) + len(data.y_test) == 1797
    for t, classes in enumerate(cl.TASKS):
        for split in ("train", "test"):
            x, y = data.task(t, split)
            assert set(np.unique(y)) == set(classes) and x.shape[1] == 64
    assert x.min() >= -1 and x.max() <= 1


@pytest.mark.parametrize("scenario", cl.SCENARIOS)
def test_exact_replay_of_all_past_data_equals_joint_training(data, scenario):
    cfg = replace(TINY, scenario=scenario, buffer_per_class=10_000)
    a = list(cl.train("replay", cfg, data))
    b = list(cl.train("joint", cfg, data))
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.R, y.R)


def test_replay_mixture_ratio_by_counting(data):
    for r in (0.0, 0.25, 0.5, 0.75):
        cfg = replace(TINY, replay_ratio=r, batch_size=20)
        snaps = list(cl.train("dgr", cfg, data))
        ends = [s for s in snaps if s.rows_done == s.task + 1]       # the end of each task
        assert ends[0].seen_replay == 0                               # nothing to replay during task 1
        for s in ends[1:]:
            assert s.seen_real + s.seen_replay == cfg.iters * 20
            assert s.seen_replay == round(r * 20) * cfg.iters
        assert cl.replay_counts(20, r) == (20 - round(20 * r), round(20 * r))


def test_dgr_with_r_zero_trains_the_solver_like_fine_tuning(data):
    """r = 0: the DGR solver sees the same minibatches as fine-tuning (the generator uses its own noise stream)."""
    cfg = replace(TINY, replay_ratio=0.0)
    for x, y in zip(cl.train("dgr", cfg, data), cl.train("finetune", cfg, data)):
        np.testing.assert_array_equal(x.R, y.R)


def test_vae_loss_is_the_negative_elbo_closed_form():
    p = cl.vae_init(6, 3, 0)
    x = torch.rand(5, 64) * 2 - 1
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    mine = float(cl.vae_loss(p, x, g1).detach())
    with torch.no_grad():
        h = torch.relu(x @ p[0] + p[1])
        mu, logvar = (h @ p[2] + p[3]).chunk(2, 1)
        z = mu + torch.randn(mu.shape, generator=g2) * (0.5 * logvar).exp()
        probs = torch.sigmoid(torch.relu(z @ p[4] + p[5]) @ p[6] + p[7])
        target = (x + 1) / 2
        rec = -(target * probs.log() + (1 - target) * (1 - probs).log()).sum(1).mean()
        q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
        kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1).mean()
    assert mine == pytest.approx(float(rec + kl), rel=1e-5)


def test_task_incremental_mask_allows_only_the_labels_task():
    m = cl._mask(torch.tensor([0, 3, 9]), "task")
    assert torch.isfinite(m).sum(1).tolist() == [2, 2, 2]
    assert torch.isfinite(m[1, 2:4]).all() and torch.isfinite(m[2, 8:]).all()


@pytest.mark.slow
def test_only_replay_prevents_forgetting_in_class_incremental_learning(data):
    cfg = cl.Config(iters=150, hidden=64, gen_hidden=64, snapshot_every=150)
    res = {m: cl.final_metrics(list(cl.train(m, cfg, data))) for m in cl.METHODS}
    assert res["finetune"][1] < -0.8 and res["finetune"][0] < 0.3     # the earlier tasks are gone
    assert res["replay"][0] > 0.85 and res["replay"][1] > -0.15
    assert res["dgr"][0] > res["finetune"][0] + 0.3
    assert res["joint"][0] >= res["replay"][0] - 0.05


def test_streaming_fills_the_matrix_row_by_row(data):
    snaps = list(cl.train("finetune", TINY, data))
    assert [s.step for s in snaps] == list(range(10, 101, 10))
    for s in snaps:
        filled = ~np.isnan(s.R)
        assert filled.sum() == sum(range(1, s.task + 2))              # rows 0..task, columns j ≤ i
        assert s.rows_done in (s.task, s.task + 1)


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="replay ratio"):
        cl.validate(replace(TINY, replay_ratio=1.0))
    with pytest.raises(ValueError, match="scenario"):
        list(cl.train("finetune", replace(TINY, scenario="domain")))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_runs_and_steps(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    at.button(key="continual.run.step").click().run()
    assert_ok(at)
    run = at.session_state["continual.run"]
    assert set(run.snaps) == set(cl.METHODS) and run.step == 50


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ja"])             # (~20-40 s per language: the Japanese page is the one reported)
def test_page_says_finished_not_learning_after_the_last_task(lang):
    """Issue 29: 「学習中」 (learning task 5) stayed on screen after training had finished."""
    at = run_page(PAGE, lang=lang)
    at.slider(key="continual.iters").set_value(50).run()
    run = at.session_state["continual.run"]
    for _ in range(12):
        if run.status == "finished":
            break
        at.button(key="continual.run.step").click().run()
        run = at.session_state["continual.run"]
    assert_ok(at)
    assert run.status == "finished"
    text = " ".join(c.value for c in at.caption)
    assert ("Learning task" not in text and "finished" in text) if lang == "en" else \
        ("学習中" not in text and "学習は終わりました" in text)


def test_japanese_says_scholar_as_the_course_notes_would():
    import tomllib

    ja = tomllib.load(open("locales/continual.toml", "rb"))["ja"]
    words = ja["dgr_text"] + ja["dream"]["caption"]
    assert "スカラー" not in words and "学者（scholar）モデル" in ja["dgr_text"]


def test_page_task_scenario_and_r_zero():
    at = run_page(PAGE)
    at.radio(key="continual.scenario").set_value("task")
    at.select_slider(key="continual.r").set_value(0.0).run()
    assert_ok(at)
    assert any("r = 0" in i.value for i in at.info)
    assert at.session_state["continual.run"].config.scenario == "task"


@pytest.mark.slow
def test_forgetting_shows_as_a_fall():
    """Issue 29: "↑ BWT −100.0 pt" in green. A negative BWT is a red ↓ (Streamlit reads a delta's sign from its first
    character), a positive one a green ↑, in both languages."""
    from streamlit.proto.Metric_pb2 import Metric

    for lang in ("en", "ja"):
        at = run_page(PAGE, lang=lang)
        at.slider(key="continual.iters").set_value(50).run()
        for _ in range(3):                                            # into task 2: BWT exists
            at.button(key="continual.run.step").click().run()
        assert_ok(at)
        run = at.session_state["continual.run"]
        deltas = [m for m in at.metric if m.proto.delta]
        assert len(deltas) == len(cl.METHODS)
        for m, s in zip(deltas, run.snaps.values()):
            bwt = cl.acc_bwt(s.R, s.task)[1]
            assert m.proto.delta == ("0" if round(100 * bwt, 1) == 0 else f"{100 * bwt:+.1f} pt")
            assert m.proto.delta_description == "BWT"
            if bwt < 0:
                assert (m.proto.direction, m.proto.color) == (Metric.MetricDirection.DOWN, Metric.MetricColor.RED)
            elif bwt > 0:
                assert (m.proto.direction, m.proto.color) == (Metric.MetricDirection.UP, Metric.MetricColor.GREEN)
        assert cl.acc_bwt(run.snaps["finetune"].R, run.snaps["finetune"].task)[1] < 0   # fine-tuning forgets


# ---- practice items: ACC and BWT recomputed from the matrix shown by brute force (never the generator's code)
def _acc_bwt_by_hand(R):
    R = np.asarray(R, float)
    T = len(R)
    acc = sum(R[T - 1, j] for j in range(T)) / T
    bwt = sum(R[T - 1, j] - R[j, j] for j in range(T - 1)) / (T - 1)
    return acc, bwt


def test_practice_acc_bwt_items_by_hand():
    from engine.common import practice as P
    for seed in range(200):
        acc_item, bwt_item = P.make("continual", "acc_value", seed), P.make("continual", "bwt_value", seed)
        acc, _ = _acc_bwt_by_hand(acc_item.params["R"])
        _, bwt = _acc_bwt_by_hand(bwt_item.params["R"])
        assert abs(acc_item.answer - acc) < 1e-9 and abs(bwt_item.answer - bwt) < 1e-9
        assert abs(float(acc_item.choices[acc_item.correct_index].label["en"]) - acc) <= 0.005 + 1e-9
        assert abs(float(bwt_item.choices[bwt_item.correct_index].label["en"]) - bwt) <= 0.005 + 1e-9
        impl = P.make("continual", "metrics_implementation", seed)
        np.testing.assert_allclose(impl.exec.expected, _acc_bwt_by_hand(impl.params["R"]), atol=1e-9)


def test_practice_statements_hold_numerically():
    """bwt_negative (true) / bwt_positive_forget (false): a matrix whose old accuracies only fall has BWT < 0;
    acc_diag (false): the diagonal's mean differs from ACC once anything is forgotten."""
    R = np.array([[95, 10, 5], [60, 97, 8], [40, 80, 93]], float)
    acc, bwt = cl.acc_bwt(R)
    assert bwt < 0 and abs(acc - np.mean(np.diag(R))) > 1
