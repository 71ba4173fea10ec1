"""The one live-training run: every chapter that trains a model in front of the reader uses it.

A page builds a config (a frozen dataclass or dict of plain values, uploaded data included) and hands
`start()` a factory `make(config) -> {name: Iterator[snapshot]}` whose generators come from the engine. The run
owns the rest: Train / Pause / Step / Reset, the refresh fragment, a bounded history of each model's metrics, the
end of training, and the restart when the configuration changes.

    run = training.start("gan2d", cfg, make)          # restarted (with a notice) when cfg's digest changes
    training.live(run, draw)                          # controls + draw(run) in a fragment, advanced while running

Snapshots need a `.step` (int). Optional: `.metrics` ({name: float}, recorded into `run.history`) and `.seconds`
(wall-clock time, the one field allowed to differ between two runs of the same seed). Generators must be
deterministic given the config (randomness comes in through it, e.g. a seed field): the contract tests check it.

Nothing runs in the background: the generators only advance inside the page's fragment, so pausing, or leaving the
page, stops the work at once. Memory per run is bounded (latest snapshot per model + `history` points per model).

Step 0 is the same for every reader with the same config, so the first snapshots are computed once per process
(`first_snapshots`, bounded) and shared read-only; a session makes its own generators when it first trains.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Literal

import numpy as np
import streamlit as st

Status = Literal["paused", "running", "finished"]
WALL_CLOCK_FIELDS = frozenset({"seconds"})   # snapshot fields measured in wall-clock time (excluded from equality)
HISTORY_POINTS = 2000                        # per model; beyond it every other point is dropped (whole run kept)
BUDGET_S = 0.35                              # compute per refresh; the rest of REFRESH_S draws
REFRESH_S = 0.5
PULL_LIMIT: int | None = None                # tests only: cut every generator to this many snapshots
NOTICE_S = 10.0                              # how long the "settings changed, restarted" notice stays
FIRST_CACHE = 64                             # configs whose step-0 snapshots are kept per process


def config_digest(obj: Any) -> str:
    """A content hash of a config: dataclasses, dicts, sequences, numpy arrays, bytes and scalars, all of it (an
    uploaded file's every byte, not a prefix)."""
    h = hashlib.blake2b(digest_size=16)

    def feed(o: Any) -> None:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            h.update(type(o).__qualname__.encode())
            for f in dataclasses.fields(o):
                h.update(f.name.encode())
                feed(getattr(o, f.name))
        elif isinstance(o, dict):
            h.update(b"{")
            for k in sorted(o, key=repr):
                feed(k)
                feed(o[k])
            h.update(b"}")
        elif isinstance(o, (list, tuple)):
            h.update(b"[" if isinstance(o, list) else b"(")
            for v in o:
                feed(v)
            h.update(b"]")
        elif isinstance(o, np.ndarray):
            a = np.ascontiguousarray(o)
            h.update(repr((a.shape, a.dtype.str)).encode())
            h.update(a.tobytes())
        elif isinstance(o, (bytes, bytearray, memoryview)):
            h.update(b"b%d:" % len(o))
            h.update(bytes(o))
        else:
            h.update(repr(o).encode())
        h.update(b";")

    feed(obj)
    return h.hexdigest()


@dataclass
class Run:
    """One live-training run of a chapter in one reader's session."""

    stem: str
    name: str                                     # "" for a page's only run; else which of its runs
    config: Any
    digest: str
    make: Callable[[Any], dict[str, Iterator]]
    advance_mode: Literal["round_robin", "laggard"] = "round_robin"
    its: dict[str, Iterator] = field(default_factory=dict)
    snaps: dict[str, Any] = field(default_factory=dict)          # latest snapshot per model
    history: dict[str, list[tuple[int, dict[str, float]]]] = field(default_factory=dict)  # (step, metrics), bounded
    status: Status = "paused"
    pulls: int = 0                                # snapshots pulled since the (re)start
    seconds: float = 0.0                          # compute time spent pulling them
    notice: tuple[int, float] | None = None       # (step the replaced run had reached, when): shown ~10 s
    cost: dict[str, float] = field(default_factory=dict)         # last pull time per model (laggard mode)
    timer_on: bool = False                        # the fragment was created with run_every
    lazy: bool = False                            # step 0 came from the shared cache; generators not made yet
    # Held around every pull (and restart): two script threads of one session can run at once — a click with
    # runner.fastReruns stops the running script and starts the next run in a new thread at once, while the old
    # thread is still inside `next(it)` — and a generator advanced by both raises "generator already executing".
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    # ---------------------------------------------------------------------------------------------- state
    @property
    def key(self) -> str:
        return f"{self.stem}.run" + (f".{self.name}" if self.name else "")

    @property
    def step(self) -> int:
        """The least advanced model's step (what every model has reached)."""
        return min((int(s.step) for s in self.snaps.values()), default=0)

    def restart(self, first: dict[str, Any] | None = None) -> None:
        """Back to step 0, paused. With `first` (each model's step-0 snapshot, shared read-only) the generators are
        made when the run first advances; without it they are made now and their first snapshots pulled."""
        with self.lock:
            self._restart(first)

    def _restart(self, first: dict[str, Any] | None) -> None:
        self.snaps, self.history, self.cost = {}, {}, {}
        self.status, self.pulls, self.seconds = "paused", 0, 0.0
        self.its, self.lazy = {}, first is not None
        if first is not None:
            for k, snap in first.items():
                self.history[k] = []
                self._record(k, snap)
            return
        self._make_its()
        for k, it in self.its.items():
            self._pull(k, it, count=False)

    def _make_its(self) -> None:
        self.its = dict(self.make(self.config))
        if PULL_LIMIT is not None:
            self.its = {k: itertools.islice(it, PULL_LIMIT) for k, it in self.its.items()}
        for k in self.its:
            self.history.setdefault(k, [])

    def _ensure_its(self) -> None:
        """Make the session's own generators and skip their step 0 (equal to the shared one: deterministic)."""
        with self.lock:
            if not self.lazy:
                return
            self.lazy = False
            self._make_its()
            for it in self.its.values():
                next(it, None)

    def _pull(self, name: str, it: Iterator, count: bool = True) -> bool:
        """One snapshot of one model; False when its generator ended or was replaced (a restart by another thread
        while this one waited for the lock: its snapshot must not enter the new run)."""
        with self.lock:
            if self.its.get(name) is not it:
                return False
            t0 = time.perf_counter()
            try:
                snap = next(it)
            except StopIteration:
                self.status = "finished"
                return False
            dt = time.perf_counter() - t0
            self.cost[name] = dt
            if count:
                self.pulls += 1
                self.seconds += dt
            self._record(name, snap)
            return True

    def _record(self, name: str, snap: Any) -> None:
        self.snaps[name] = snap
        metrics = getattr(snap, "metrics", None)
        if metrics:
            hist = self.history.setdefault(name, [])
            hist.append((int(snap.step), {k: float(v) for k, v in metrics.items()}))
            if len(hist) > HISTORY_POINTS:
                del hist[1::2]                    # keep the whole run at half the density

    # -------------------------------------------------------------------------------------------- advance
    def step_once(self) -> None:
        """One snapshot from every model (the Step button)."""
        with self.lock:
            self._ensure_its()
            for k, it in list(self.its.items()):
                if not self._pull(k, it):
                    return

    def advance(self, budget_s: float, interrupted: Callable[[], bool] = lambda: False) -> None:
        """Pull snapshots for about `budget_s` seconds (at least one pull), stopping early once `interrupted()` says
        the reader has acted. Round robin pulls every model in turn; laggard pulls the model furthest behind and
        stops before a pull that its last one says would overshoot."""
        t0 = time.perf_counter()
        self._ensure_its()
        if self.advance_mode == "round_robin":
            while True:
                with self.lock:                   # one round at a time: another thread's pulls wait for it
                    for k, it in list(self.its.items()):
                        if not self._pull(k, it) or interrupted():
                            return                # a reader's action leaves models one pull apart at most
                if time.perf_counter() - t0 >= budget_s:
                    return
        while True:
            with self.lock:
                k = self._behind()
                it = self.its.get(k)
            if it is None or not self._pull(k, it):
                return
            if time.perf_counter() - t0 + self.cost.get(self._behind(), 0.0) > budget_s or interrupted():
                return

    def _behind(self) -> str:
        return min(self.snaps, key=lambda name: self.snaps[name].step)

    def curve(self, name: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one metric of one model from the bounded history."""
        pts = [(s, m[metric]) for s, m in self.history.get(name, []) if metric in m]
        if not pts:
            return np.zeros(0, int), np.zeros(0)
        steps, values = zip(*pts)
        return np.asarray(steps), np.asarray(values, float)


# ------------------------------------------------------------------------------------- shared step 0
_FIRST: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_FIRST_LOCK = threading.Lock()
_FIRST_PENDING: dict[tuple, threading.Event] = {}   # keys being computed now, each by one session


def first_snapshots(run: Run) -> dict[str, Any]:
    """Every model's step-0 snapshot for this run's config, computed once per process from generators made for
    that alone and then closed (so no session's training ever mutates what they hold); the last FIRST_CACHE
    configs are kept. What `make` builds depends on the config alone (and on process-wide constants), never on the
    reader's language: the contract battery trains every page in both languages and compares.
    Sessions that ask for a key another session is computing wait for it rather than compute it again (ten readers
    opening a chapter at once computed its step 0 ten times over, 17 s under the load benchmark); if that
    computation fails, each computes its own."""
    key = (run.stem, run.name, run.digest, PULL_LIMIT)
    with _FIRST_LOCK:
        if key in _FIRST:
            _FIRST.move_to_end(key)
            return _FIRST[key]
        pending = _FIRST_PENDING.get(key)
        if pending is None:
            _FIRST_PENDING[key] = done = threading.Event()
    if pending is not None:
        pending.wait()
        with _FIRST_LOCK:
            if key in _FIRST:
                return _FIRST[key]
        return _compute_first(run)                            # the other session's computation failed
    try:
        first = _compute_first(run)
        with _FIRST_LOCK:
            _FIRST[key] = first
            while len(_FIRST) > FIRST_CACHE:
                _FIRST.popitem(last=False)
        return first
    finally:
        with _FIRST_LOCK:
            _FIRST_PENDING.pop(key, None)
        done.set()


def _compute_first(run: Run) -> dict[str, Any]:
    its = dict(run.make(run.config))
    first = {}
    for k, it in its.items():
        snap = next(it, None)
        if snap is not None:
            first[k] = snap
        close = getattr(it, "close", None)
        if close is not None:
            close()
    return first


# ------------------------------------------------------------------------------------------------ page API
def start(stem: str, config: Any, make: Callable[[Any], dict[str, Iterator]], *, name: str = "",
          advance: Literal["round_robin", "laggard"] = "round_robin") -> Run:
    """The session's run of `stem` (and `name`), built from `config`. A config whose digest differs from the run's
    restarts it from step 0, keeping Train/Pause as it was, and the page shows a notice saying so."""
    key = f"{stem}.run" + (f".{name}" if name else "")
    digest = config_digest(config)
    run: Run | None = st.session_state.get(key)
    if run is not None and run.digest == digest:
        run.make = make                        # a page rerun brings a new closure; the config is the same
        return run
    new = Run(stem=stem, name=name, config=config, digest=digest, make=make, advance_mode=advance)
    # step 0 of every model, shared by the readers of this config; a moving bar while a cold server computes it
    from ui import t, warm
    new.restart(warm.wait_for(first_snapshots, new, what=t("common.run.preparing"), expect_s=1.5))
    if run is not None and run.pulls:
        new.notice = (run.step, time.time())
        new.status = "running" if run.status == "running" else "paused"
    st.session_state[key] = new
    return new


def reader_acted() -> bool:
    """True once the reader's browser has asked for a rerun that is not the refresh timer's (a click, a slider)
    while this script computes. Streamlit acts on it only at the script's next element, after the whole training
    budget: stopping the pulls instead is what lets Pause answer within a second. False outside a script run."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx is not None and ctx.script_requests is not None and rerun_requested(ctx.script_requests)


def rerun_requested(requests: Any) -> bool:
    """A pending rerun in Streamlit's `ScriptRequests` that is not an automatic (timer) one, or a stop (with
    runner.fastReruns a click stops the running script and starts the next run at once). There is no public API
    for it: a test pins these private names to the installed Streamlit; if they move, training just finishes its
    budget before a click is answered, as it did before."""
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType

    try:
        if requests._state == ScriptRequestType.STOP:     # this run was stopped: a newer one has taken over
            return True
        return requests._state == ScriptRequestType.RERUN and not requests._rerun_data.is_auto_rerun
    except AttributeError:
        return False


def _on_train(key: str) -> None:
    run: Run = st.session_state[key]
    if run.status != "finished":
        run.status = "running"


def _on_pause(key: str) -> None:
    run: Run = st.session_state[key]
    if run.status == "running":
        run.status = "paused"


def _on_step(key: str) -> None:
    run: Run = st.session_state[key]
    if run.status != "finished":
        run.status = "paused"
        run.step_once()


def _on_reset(key: str) -> None:
    run: Run = st.session_state[key]
    run.restart(first_snapshots(run))
    run.notice = None


CONTROLS_KEY = "run_controls"     # app.py's CSS keeps `st-key-run_controls…` in view on a phone


def controls(run: Run) -> None:
    """Train / Pause / Step / Reset in one row, then one status line (and the restart notice, once).

    Row and status line are one container: on a phone app.py's CSS pins it under the top of the screen while the
    reader scrolls through this run's charts (`live` holds them in one block), so Pause stays next to what it
    stops. The row wraps (two by two on a 390 px phone) where `st.columns` stacked four full-width buttons."""
    from ui import t

    k = run.key
    with st.container(key=f"{CONTROLS_KEY}.{k}"):
        # Material icons ship with Streamlit (its own font): emoji such as ⏸ ⏭ were boxes where no emoji font is
        # installed
        with st.container(horizontal=True, gap="small"):
            st.button(t("common.run.train"), key=f"{k}.train", on_click=_on_train, args=(k,), type="primary",
                      icon=":material/play_arrow:", disabled=run.status != "paused", width="stretch")
            st.button(t("common.run.pause"), key=f"{k}.pause", on_click=_on_pause, args=(k,),
                      icon=":material/pause:", disabled=run.status != "running", width="stretch")
            st.button(t("common.run.step"), key=f"{k}.step", on_click=_on_step, args=(k,),
                      icon=":material/skip_next:", disabled=run.status == "finished", width="stretch")
            st.button(t("common.run.reset"), key=f"{k}.reset", on_click=_on_reset, args=(k,),
                      icon=":material/replay:", width="stretch")
        speed = run.pulls / run.seconds if run.seconds > 0 else 0.0
        st.caption(t(f"common.run.status.{run.status}", step=f"{run.step:,}", speed=speed))
    if run.status == "finished":
        st.info(t("common.run.finished", step=f"{run.step:,}"))
    if run.notice is not None and time.time() - run.notice[1] < NOTICE_S:
        st.info(t("common.run.restarted", step=f"{run.notice[0]:,}"), icon=":material/restart_alt:")


def live(run: Run, draw: Callable[[Run], None], *, budget_s: float = BUDGET_S, refresh_s: float = REFRESH_S,
         show_controls: bool = True) -> None:
    """The run's fragment: controls, then `draw(run)` (the latest snapshots), then, while running, `budget_s` of
    training. Drawing comes first so each refresh re-sends its charts at once (same elements, same keys, updated in
    place); what is drawn lags the computation by one refresh. The fragment reruns every `refresh_s` only while
    training; a button press that starts or stops training, or the end of training, reruns the page once so the
    timer follows."""
    key = run.key

    def body() -> None:
        current: Run | None = st.session_state.get(key)
        if current is None:
            return
        with st.container():                   # controls and charts in one block: the controls' sticky range
            if show_controls:
                controls(current)              # first: a press shows at once ("Paused at step …")
            if current.timer_on != (current.status == "running"):
                st.rerun(scope="app")          # Train pressed, Pause pressed or training ended: set the timer
            draw(current)
        if current.status == "running":
            current.advance(budget_s, reader_acted)

    from ui import charts

    charts.plotly_loader()                     # plotly.js for the charts `draw` shows with `charts.live`
    run.timer_on = run.status == "running"
    st.fragment(run_every=refresh_s if run.timer_on else None)(body)()
