"""The shared live-training helpers (ui/training.py), on fake models whose pulls take known times."""
from __future__ import annotations

import time
from types import SimpleNamespace

from ui.training import advance_laggard, advance_round_robin


def _model(pull_s: float, every: int = 10, last: int = 10_000):
    step = 0
    yield SimpleNamespace(step=0)
    while step < last:
        time.sleep(pull_s)
        step += every
        yield SimpleNamespace(step=step)


def _state(**pulls: float) -> dict:
    its = {k: _model(v) for k, v in pulls.items()}
    return {"its": its, "snaps": {k: next(it) for k, it in its.items()}, "running": True}


def test_laggard_keeps_models_level_and_stops_before_overshooting():
    state = _state(fast=0.005, slow=0.05)
    advance_laggard(state, 0.0)                          # learns the costs: one pull each at most
    for _ in range(5):
        t0 = time.perf_counter()
        advance_laggard(state, 0.12)
        took = time.perf_counter() - t0
        assert took <= 0.12 + 0.03                       # the slow pull is not started when it would not fit
        steps = [s.step for s in state["snaps"].values()]
        assert max(steps) - min(steps) <= 10             # never more than one pull apart


def test_laggard_pulls_at_least_once_and_ends_the_run():
    state = _state(a=0.0)
    advance_laggard(state, 0.0)
    assert state["snaps"]["a"].step == 10
    state["its"]["a"] = iter(())
    advance_laggard(state, 1.0)
    assert state["running"] is False and state["done"] is True


def test_round_robin_advances_every_model_once_per_round():
    state = _state(a=0.0, b=0.0, c=0.0)
    advance_round_robin(state, 0.0)
    assert [s.step for s in state["snaps"].values()] == [10, 10, 10]
