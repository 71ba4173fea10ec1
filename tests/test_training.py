"""The one live-training run (ui/training.py): on fake generators whose pulls take known times, and end to end on
the three pages that train (each driven to the end of its generators, then reset)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import assert_ok, run_page
from ui import training
from ui.training import Run, config_digest


def _model(pull_s: float, every: int = 10, last: int = 10_000):
    step = 0
    yield SimpleNamespace(step=0, metrics={"loss": 1.0})
    while step < last:
        time.sleep(pull_s)
        step += every
        yield SimpleNamespace(step=step, metrics={"loss": 1.0 / (1 + step)})


def _run(mode="round_robin", **pulls) -> Run:
    r = Run(stem="fake", name="", config=pulls, digest="", advance_mode=mode,
            make=lambda cfg: {k: _model(v) for k, v in cfg.items()})
    r.restart()
    return r


def test_restart_pulls_step_zero_and_is_paused():
    r = _run(a=0.0, b=0.0)
    assert r.status == "paused" and r.step == 0 and r.pulls == 0 and set(r.snaps) == {"a", "b"}


def test_laggard_keeps_models_level_and_stops_before_overshooting():
    r = _run("laggard", fast=0.005, slow=0.05)
    r.advance(0.0)                                   # learns the costs: one pull each at most
    for _ in range(5):
        t0 = time.perf_counter()
        r.advance(0.12)
        assert time.perf_counter() - t0 <= 0.12 + 0.03   # the slow pull is not started when it would not fit
        steps = [s.step for s in r.snaps.values()]
        assert max(steps) - min(steps) <= 10         # never more than one pull apart


def test_round_robin_and_step_advance_every_model_once():
    r = _run(a=0.0, b=0.0, c=0.0)
    r.advance(0.0)
    assert [s.step for s in r.snaps.values()] == [10, 10, 10]
    r.step_once()
    assert [s.step for s in r.snaps.values()] == [20, 20, 20] and r.pulls == 6


@pytest.mark.parametrize("mode", ["round_robin", "laggard"])
def test_a_readers_action_stops_the_pulls_early(mode):
    """Pause must not wait for the whole budget: once the reader has acted, at most one more pull per model."""
    r = _run(mode, a=0.01, b=0.01)
    calls = []
    t0 = time.perf_counter()
    r.advance(5.0, interrupted=lambda: calls.append(1) or len(calls) >= 3)
    assert time.perf_counter() - t0 < 1.0 and r.pulls <= 6
    n = r.pulls
    r.advance(0.3)                                   # no action: the budget is used
    assert r.pulls - n >= 4


def test_reader_acted_is_false_outside_a_script_run():
    assert training.reader_acted() is False


def test_rerun_requested_reads_the_installed_streamlits_request_state():
    """Pins the private names `rerun_requested` reads: a click's rerun counts, the refresh timer's does not."""
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    requests = ScriptRequests()
    assert not training.rerun_requested(requests)
    requests.request_rerun(RerunData(is_auto_rerun=True))
    assert not training.rerun_requested(requests)
    requests = ScriptRequests()
    requests.request_rerun(RerunData(fragment_id="f", is_fragment_scoped_rerun=True))
    assert training.rerun_requested(requests)


def test_a_stopped_script_run_counts_as_the_reader_acting():
    """With runner.fastReruns a click stops the running script and starts the next run in a new thread at once: the
    stopped one must stop pulling."""
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequests

    requests = ScriptRequests()
    requests.request_stop()
    assert training.rerun_requested(requests)


def _counting(pull_s: float, last: int):
    """Snapshots 0, 1, …, last; each pull sleeps, so two threads pulling at once overlap inside `next`."""
    for step in range(last + 1):
        if step:
            time.sleep(pull_s)
        yield SimpleNamespace(step=step, metrics={"loss": float(step)})


@pytest.mark.parametrize("mode", ["round_robin", "laggard"])
def test_two_threads_pulling_one_run_neither_raise_nor_skip_nor_repeat(mode):
    """Issue 29: "ValueError: generator already executing" in the server log. Two script threads of one session
    (a stopped run still inside `next(it)` and the new run its click started; or Step's callback and the fragment)
    advance the same run at once: every pull must wait for the other, and each snapshot is recorded exactly once,
    in order. Without the run's lock this raises within a few pulls."""
    import threading

    last = 60
    r = Run(stem="fake", name="", config=None, digest="", advance_mode=mode,
            make=lambda cfg: {"a": _counting(0.002, last), "b": _counting(0.002, last)})
    r.restart()
    errors, go = [], threading.Barrier(3)

    def worker(kind):
        go.wait()
        try:
            while r.status != "finished":
                r.step_once() if kind == "step" else r.advance(0.02)
        except Exception as err:                               # noqa: BLE001 — the failure under test
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(k,)) for k in ("advance", "advance", "step")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors, errors
    for name in ("a", "b"):
        assert [s for s, _ in r.history[name]] == list(range(last + 1))     # none skipped, none twice
    assert r.pulls == 2 * last


def test_a_restart_while_another_thread_pulls_keeps_old_snapshots_out():
    """Reset (or a settings change) in one thread while another is pulling: the old generator's next snapshot must
    not land in the restarted run."""
    import threading

    r = Run(stem="fake", name="", config=None, digest="", make=lambda cfg: {"a": _counting(0.05, 1000)})
    r.restart()
    t = threading.Thread(target=r.advance, args=(0.5,))
    t.start()
    time.sleep(0.12)
    r.restart()
    t.join(5)
    steps = [s for s, _ in r.history["a"]]
    assert steps == list(range(len(steps))) and r.snaps["a"].step == steps[-1]


def test_a_finished_generator_finishes_the_run():
    r = _run(a=0.0)
    r.its["a"] = iter(())
    r.status = "running"
    r.advance(1.0)
    assert r.status == "finished"


def test_history_is_bounded_and_keeps_the_whole_run(monkeypatch):
    monkeypatch.setattr(training, "HISTORY_POINTS", 50)
    r = _run(a=0.0)
    for _ in range(400):
        r.step_once()
    steps, loss = r.curve("a", "loss")
    assert len(steps) <= 50 and steps[0] == 0 and steps[-1] == 4000    # thinned, first and last kept
    assert np.all(np.diff(steps) > 0) and np.allclose(loss, 1.0 / (1 + steps))


@dataclass(frozen=True)
class _Cfg:
    lr: float
    data: np.ndarray


def test_digest_sees_every_byte_of_the_config():
    a = np.zeros(10_000, np.uint8)
    b = a.copy()
    b[-1] = 1                                        # differs only at the very end
    assert config_digest(_Cfg(1e-3, a)) != config_digest(_Cfg(1e-3, b))
    assert config_digest(_Cfg(1e-3, a)) == config_digest(_Cfg(1e-3, a.copy()))
    assert config_digest({"x": 1, "y": (2, 3)}) == config_digest({"y": (2, 3), "x": 1})
    assert config_digest({"x": 1}) != config_digest({"x": 1.0000001})


PAGES = {"gan2d": "pages/generative/gan2d.py", "dcgan": "pages/generative/dcgan.py",
         "pix2pix": "pages/generative/pix2pix.py"}


@pytest.mark.parametrize("stem", list(PAGES))
def test_page_train_to_the_end_then_reset(stem, monkeypatch):
    """Train until the generators end (cut to 3 snapshots), then Reset: the same behaviour on every page."""
    monkeypatch.setattr(training, "PULL_LIMIT", 3)
    at = run_page(PAGES[stem])
    assert_ok(at)
    run = at.session_state[f"{stem}.run"]
    assert run.status == "paused" and not at.button(key=f"{stem}.run.train").disabled
    at.button(key=f"{stem}.run.train").click().run()
    for _ in range(30):                              # AppTest has no timer: rerun as the fragment's refresh would
        at.run()
        assert_ok(at)
        if at.session_state[f"{stem}.run"].status == "finished":
            break
    at.run()                                         # the run after the end: controls and message updated
    run = at.session_state[f"{stem}.run"]
    assert run.status == "finished"
    assert at.button(key=f"{stem}.run.train").disabled and at.button(key=f"{stem}.run.pause").disabled
    assert at.button(key=f"{stem}.run.step").disabled
    assert any("Reset" in i.value for i in at.info), "the page says training ended and how to start again"
    at.button(key=f"{stem}.run.reset").click().run()
    assert_ok(at)
    run = at.session_state[f"{stem}.run"]
    assert run.status == "paused" and run.step == 0 and not at.button(key=f"{stem}.run.train").disabled


def test_settings_change_restarts_with_a_notice():
    at = run_page(PAGES["gan2d"])
    at.button(key="gan2d.run.step").click().run()
    assert at.session_state["gan2d.run"].step > 0
    at.number_input(key="gan2d.seed").set_value(7).run()
    assert_ok(at)
    assert at.session_state["gan2d.run"].step == 0
    assert any("restarted" in i.value for i in at.info)


def _counting_make(log: list):
    """Generators that yield one mutable dict, updated in place each step (the worst case for sharing step 0)."""
    def model(name):
        state = {"w": 0}
        log.append(("made", name))
        try:
            yield SimpleNamespace(step=0, state=state, metrics={"w": 0.0})
            for step in range(10, 100, 10):
                state["w"] += 1
                yield SimpleNamespace(step=step, state=state, metrics={"w": float(state["w"])})
        finally:
            log.append(("closed", name))
    return lambda cfg: {k: model(k) for k in cfg["models"]}


def test_step_zero_is_computed_once_per_config_and_shared_read_only():
    log: list = []
    cfg = {"models": ("a", "b"), "lr": 0.1234567}
    runs = [Run(stem="fake", name="", config=cfg, digest=config_digest(cfg), make=_counting_make(log))
            for _ in range(3)]
    firsts = [training.first_snapshots(r) for r in runs]
    assert firsts[0] is firsts[1] is firsts[2]                       # one computation for three sessions
    assert log == [("made", "a"), ("closed", "a"), ("made", "b"), ("closed", "b")]   # its generators are closed
    for r in runs:
        r.restart(firsts[0])
    assert all(r.lazy and not r.its and r.step == 0 for r in runs)   # no session made generators yet
    runs[0].step_once()                                              # the first Step makes this session's own
    eager = Run(stem="fake", name="", config=cfg, digest="", make=_counting_make([]))
    eager.restart()
    eager.step_once()
    assert {k: s.step for k, s in runs[0].snaps.items()} == {k: s.step for k, s in eager.snaps.items()} == \
        {"a": 10, "b": 10}
    for _ in range(5):
        runs[0].step_once()
    assert firsts[0]["a"].state == {"w": 0}                          # training never touched the shared step 0
    assert runs[1].snaps["a"].state == {"w": 0} and runs[0].snaps["a"].state == {"w": 6}
    assert runs[0].curve("a", "w")[0].tolist() == [0, 10, 20, 30, 40, 50, 60]


def test_the_step_zero_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(training, "FIRST_CACHE", 4)
    for i in range(10):
        cfg = {"models": ("a",), "i": i}
        training.first_snapshots(Run(stem="fake", name="", config=cfg, digest=config_digest(cfg),
                                     make=_counting_make([])))
    assert len(training._FIRST) <= 4


def test_sessions_asking_for_a_step_zero_being_computed_wait_for_it():
    import threading

    log: list = []
    make = _counting_make(log)

    def slow_make(cfg):
        time.sleep(0.3)                                              # long enough for every thread to ask meanwhile
        return make(cfg)

    cfg = {"models": ("a",), "concurrent": True}
    runs = [Run(stem="fake", name="", config=cfg, digest=config_digest(cfg), make=slow_make) for _ in range(4)]
    out: list = [None] * 4
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, training.first_snapshots(runs[i])))
               for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert log == [("made", "a"), ("closed", "a")]                   # computed once, not four times
    assert all(o is out[0] for o in out) and not training._FIRST_PENDING


def test_when_the_computing_session_fails_a_waiting_one_computes_its_own():
    import threading

    cfg = {"models": ("a",), "fails": True}
    started = threading.Event()

    def failing(cfg):
        started.set()
        time.sleep(0.3)
        raise RuntimeError("the first session's run was stopped")

    bad = Run(stem="fake", name="", config=cfg, digest=config_digest(cfg), make=failing)
    good = Run(stem="fake", name="", config=cfg, digest=config_digest(cfg), make=_counting_make([]))
    errors: list = []

    def first_session():
        try:
            training.first_snapshots(bad)
        except RuntimeError as err:
            errors.append(err)

    th = threading.Thread(target=first_session)
    th.start()
    started.wait()
    first = training.first_snapshots(good)                           # waits, then computes its own
    th.join()
    assert errors and first["a"].step == 0 and not training._FIRST_PENDING
