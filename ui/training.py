"""Live-training controls shared by the generative pages: Train / Pause / Step / Reset on a session's state,
and a bounded advance, so each refresh of the page's fragment does a fixed slice of work."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

import streamlit as st


def advance_round_robin(state: dict, budget_s: float) -> None:
    """Pull one snapshot from every model's generator in turn until `budget_s` is spent (at least one round);
    a finished generator stops the run."""
    t0 = time.perf_counter()
    while True:
        for k, it in state["its"].items():
            try:
                state["snaps"][k] = next(it)
            except StopIteration:
                state["running"] = False
                return
        if time.perf_counter() - t0 >= budget_s:
            return


def advance_laggard(state: dict, budget_s: float) -> None:
    """Pull a snapshot from the model that is furthest behind (by `.step`), again and again while the next pull is
    expected to fit in `budget_s` (at least one pull). Each model's last pull time predicts its next, so a slow
    model does not overshoot the refresh period. A finished generator ends the run (`running` False, `done` True)."""
    t0 = time.perf_counter()
    cost = state.setdefault("cost", {})

    def behind() -> str:
        return min(state["snaps"], key=lambda name: state["snaps"][name].step)

    while True:
        k = behind()
        t1 = time.perf_counter()
        try:
            state["snaps"][k] = next(state["its"][k])
        except StopIteration:
            state["running"], state["done"] = False, True
            return
        cost[k] = time.perf_counter() - t1
        if time.perf_counter() - t0 + cost.get(behind(), 0.0) > budget_s:
            return


@contextmanager
def live_state(state_key: str, budget_s: float,
               advance: Callable[[dict, float], None] = advance_round_robin) -> Iterator[dict | None]:
    """One fragment refresh: ``with live_state(...) as state:`` draws the session's training state (None after
    Reset), and when the block ends, advances it by `budget_s` of work while training runs.

    Drawing first and computing after means the fragment re-sends its charts within milliseconds of starting;
    computing first would leave them greyed out as stale for the whole budget of every refresh. What is drawn
    lags the computation by one refresh (0.5 s)."""
    state = st.session_state.get(state_key)
    yield state
    if state is not None and state["running"]:
        advance(state, budget_s)


def _set_running(state_key: str, flag: bool) -> None:
    st.session_state[state_key]["running"] = flag


def _step(state_key: str, step: Callable[[dict], None]) -> None:
    state = st.session_state[state_key]
    state["running"] = False
    step(state)


def _reset(state_key: str) -> None:
    st.session_state.pop(state_key, None)


def training_buttons_ui(stem: str, state_key: str, *, step: Callable[[dict], None] | None = None) -> None:
    """The four buttons, labelled `t("<stem>.train" | "pause" | "step" | "reset")`; `step(state)` advances one
    snapshot (default: one round of every model)."""
    from ui import t

    state = st.session_state[state_key]
    step = step or (lambda s: advance_round_robin(s, 0.0))
    b1, b2, b3, b4 = st.columns(4)
    b1.button(t(f"{stem}.train"), key=f"{stem}.train", on_click=_set_running, args=(state_key, True),
              disabled=state["running"], type="primary", use_container_width=True)
    b2.button(t(f"{stem}.pause"), key=f"{stem}.pause", on_click=_set_running, args=(state_key, False),
              disabled=not state["running"], use_container_width=True)
    b3.button(t(f"{stem}.step"), key=f"{stem}.step", on_click=_step, args=(state_key, step), use_container_width=True)
    b4.button(t(f"{stem}.reset"), key=f"{stem}.reset", on_click=_reset, args=(state_key,), use_container_width=True)
