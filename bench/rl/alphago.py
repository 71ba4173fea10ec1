"""AlphaGo's search on tic-tac-toe: search speed, the live training's budgets, and what the network buys.

Targets from issue #28 ("For every chapter"): the first snapshot of the live training ≤ 1 s on the server. The run
object's budget: one pull (one snapshot of one model) well under its 0.35 s per refresh. Also printed: simulations
per second with and without the network, the share of minimax-optimal moves of the search without a network as
the simulations grow, and the self-play network's search after a fixed time, against the search without it, on the
same 40 test positions; and the page's cold render and reruns (AppTest, fresh process).
"""
from __future__ import annotations

import time

import numpy as np

from bench.common import page_timings, report
from engine.rl import alphago as ag


def _sims_per_s(cfg: ag.SearchConfig, net=None, repeats: int = 5) -> float:
    boards = [ag.EMPTY, ag.replay([4]), ag.replay([0, 4, 8])]
    t0 = time.perf_counter()
    n = 0
    for r in range(repeats):
        for b in boards:
            ag.mcts(b, cfg, np.random.default_rng(r), net)
            n += cfg.n_sims
    return n / (time.perf_counter() - t0)


def main() -> None:
    ag.decisive_positions()                                   # the oracle's tables, built once per process
    cfg = ag.Config()
    t0 = time.perf_counter()
    firsts = {name: next(train(cfg)) for name, train in (("zero", ag.train_zero), ("alphago", ag.train_alphago))}
    report("first snapshots of both models (step 0) / 1 s target", time.perf_counter() - t0, 1.0)
    it = ag.train_zero(cfg)
    next(it)
    costs = []
    for _ in range(10):
        t1 = time.perf_counter()
        next(it)
        costs.append(time.perf_counter() - t1)
    report("zero: one pull (median of 10) / 0.35 s refresh budget", float(np.median(costs)), 0.35)
    stages: dict[str, list[float]] = {}
    ends: dict[str, ag.Snapshot] = {}
    t0 = time.perf_counter()
    it = ag.train_alphago(cfg)
    next(it)
    while True:
        t1 = time.perf_counter()
        s = next(it)
        stages.setdefault(s.stage, []).append(time.perf_counter() - t1)
        ends[s.stage] = s
        if s.step >= cfg.sl_games + cfg.rl_games + 800:
            break
    alphago_seconds = time.perf_counter() - t0
    for stage, c in stages.items():
        report(f"alphago {stage}: one pull (median) / 0.35 s refresh budget", float(np.median(c)), 0.35)

    net = ag.Evaluator(firsts["zero"].params)
    pure = _sims_per_s(ag.SearchConfig(n_sims=400))
    with_net = _sims_per_s(ag.SearchConfig(n_sims=400, prior="net", leaf="net"), net)
    print(f"MCTS simulations/s: uniform P + random rollouts {pure:,.0f}; network P and v {with_net:,.0f}")
    for n in (4, 16, 64, 256):
        acc = ag.search_accuracy(ag.SearchConfig(n_sims=n), ag._eval_set(40, 0), 0)
        print(f"search without a network, {n:4d} simulations: {acc:.0%} minimax-optimal on the 40 test positions")

    base = ag.baseline_search_accuracy(cfg)
    for name, train in (("AlphaGo Zero (self-play)", ag.train_zero), ("SL alone (expert games)", ag.train_sl)):
        t0 = time.perf_counter()
        for s in train(cfg):
            if time.perf_counter() - t0 > 30:
                break
        m = s.metrics
        print(f"{name} after 30 s ({s.step} games): policy head optimal {m['optimal_policy']:.0%} of 3 191 positions, "
              f"search with the net ({cfg.eval_sims} sims) {m['search_optimal']:.0%} vs {base:.0%} without, "
              f"value MSE {m['value_error']:.3f}")
    print(f"AlphaGo's pipeline, {alphago_seconds:.1f} s for {cfg.sl_games} SL + {cfg.rl_games} RL + 800 value games:")
    for stage, s in ends.items():
        m = s.metrics
        print(f"  end of {stage} ({s.step} games): policy optimal {m['optimal_policy']:.0%}, search (SL prior, "
              f"(1−λ)v + λz) {m['search_optimal']:.0%}, value network MSE {m['value_error']:.3f}")

    t = page_timings("pages/rl/alphago.py", {"alphago.sims": [800, 1, 200], "alphago.shown": [800, 1, 12]})
    report("page cold render (AppTest, fresh process) / 10 s", t["cold"], 10.0)
    for key in ("alphago.sims", "alphago.shown"):
        report(f"page rerun, slowest of {key} at max/min/default / 2 s", max(t[key]), 2.0)


if __name__ == "__main__":
    main()
