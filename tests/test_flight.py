"""Readers who ask for the same thing at once get one computation of it (issue #29: a class arriving at a server
that has just started): ui/flight.py, the explanation store that uses it (ui/models.py), and the claim that
Streamlit's own caches are single-flight per key, which the app relies on for every `st.cache_*` function."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ui.flight import SingleFlight

N = 8


def _store():
    items: dict = {}
    return items, items.get, items.__setitem__


def test_concurrent_callers_of_one_key_share_one_computation_and_see_its_progress():
    flights = SingleFlight()
    items, lookup, store = _store()
    started = threading.Event()
    seen: list[float] = []

    def compute(progress):
        started.set()
        for k in range(1, 6):
            time.sleep(0.12)
            progress(k / 5)
        return object()

    def caller(_):
        return flights.do("k", lookup=lookup, compute=compute, store=store, waiting=seen.append)

    with ThreadPoolExecutor(N) as pool:
        values = list(pool.map(caller, range(N)))
    assert flights.computations == 1
    assert all(v is values[0] for v in values) and items["k"] is values[0]
    assert seen and max(seen) > 0 and all(0 <= f <= 1 for f in seen)    # waiters watched the owner's progress
    # a later caller finds the stored value and computes nothing
    assert flights.do("k", lookup=lookup, compute=compute, store=store) is values[0]
    assert flights.computations == 1 and not flights.in_flight("k")


def test_without_single_flight_the_same_callers_compute_n_times():
    """The brute-force reference the first test is measured against: a plain check-then-compute store computes once
    per concurrent caller (what the explanation store did before)."""
    items, count, lock = {}, [0], threading.Lock()

    def caller(_):
        if "k" not in items:
            with lock:
                count[0] += 1
            time.sleep(0.2)
            items["k"] = object()
        return items["k"]

    barrier = threading.Barrier(N)
    with ThreadPoolExecutor(N) as pool:
        list(pool.map(lambda i: (barrier.wait(), caller(i)), range(N)))
    assert count[0] == N


def test_a_failed_owner_hands_the_computation_to_one_waiter():
    flights = SingleFlight()
    items, lookup, store = _store()
    attempts = []

    def compute(progress):
        attempts.append(threading.get_ident())
        time.sleep(0.3)
        if len(attempts) == 1:
            raise RuntimeError("the first reader left")
        return 42

    def caller(_):
        try:
            return flights.do("k", lookup=lookup, compute=compute, store=store)
        except RuntimeError as err:
            return err

    with ThreadPoolExecutor(N) as pool:
        out = list(pool.map(caller, range(N)))
    assert sum(isinstance(o, RuntimeError) for o in out) == 1
    assert out.count(42) == N - 1
    assert flights.computations == 2 and items == {"k": 42}


def test_different_keys_compute_at_the_same_time():
    flights = SingleFlight()
    _, lookup, store = _store()
    both = threading.Barrier(2, timeout=5)      # broken (BrokenBarrierError) if the keys were computed in turn

    def caller(key):
        return flights.do(key, lookup=lookup, compute=lambda p: (both.wait(), key)[1], store=store)

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(caller, ["a", "b"])) == ["a", "b"]
    assert flights.computations == 2


def test_a_waiter_may_stop_waiting_and_the_owner_still_finishes():
    flights = SingleFlight()
    items, lookup, store = _store()
    release = threading.Event()

    class Left(Exception):
        pass

    def leave(fraction):
        raise Left

    owner = threading.Thread(target=flights.do, args=("k",),
                             kwargs=dict(lookup=lookup, compute=lambda p: (release.wait(5), 7)[1], store=store))
    owner.start()
    while not flights.in_flight("k"):
        time.sleep(0.01)
    with pytest.raises(Left):                    # a reader who leaves while waiting (Streamlit's stop or rerun)
        flights.do("k", lookup=lookup, compute=lambda p: 0, store=store, waiting=leave)
    release.set()
    owner.join(5)
    assert items == {"k": 7} and flights.computations == 1


def test_explanations_prefilled_by_many_threads_are_computed_once():
    """ui.models' store: the warm-up's `prefill` and readers share one computation per key."""
    from ui import models

    store = models._results()
    before = store.flights.computations
    key = ("test_flight", time.time_ns())
    barrier = threading.Barrier(N)

    def compute(progress):
        time.sleep(0.3)
        return ("done", key)

    with ThreadPoolExecutor(N) as pool:
        list(pool.map(lambda _: (barrier.wait(), models.prefill(key, compute)), range(N)))
    assert store.flights.computations - before == 1
    assert store.get(key) == ("done", key)


@pytest.mark.parametrize("decorator", ["cache_data", "cache_resource"])
def test_streamlit_caches_are_single_flight_per_key(decorator):
    """The app leaves `st.cache_data` / `st.cache_resource` functions to Streamlit: N threads asking for one key
    at once must compute it once (and two keys twice)."""
    import streamlit as st

    calls: list = []

    @getattr(st, decorator)(show_spinner=False)
    def slow(x: int, salt: int) -> int:
        calls.append(x)
        time.sleep(0.3)
        return x * 2

    salt = time.time_ns()
    barrier = threading.Barrier(N)
    with ThreadPoolExecutor(N) as pool:
        out = list(pool.map(lambda i: (barrier.wait(), slow(i % 2, salt))[1], range(N)))
    assert out == [(i % 2) * 2 for i in range(N)]
    assert sorted(calls) == [0, 1]
