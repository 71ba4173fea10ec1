"""RNN, LSTM, GRU chapter targets (issue #27, "For every chapter"), on one core (torch.set_num_threads(1)):

1. The live training shows a learning curve within 2 s: step 0 of the three cells plus their first trained point
   (`every` = 10 updates each), what the page draws after the first Train, ≤ 2 s.
2. It reaches the task's target (≥ 95 % held-out accuracy on the memory task) in ≤ 60 s: the seconds the page's
   three cells, trained in lockstep, take until the LSTM and the GRU have both reached it at the default delay
   (D = 40), and what the simple RNN has by then (the page says it stays far below). Then each cell alone at D = 5
   (all three are meant to learn it), the RNN at D = 20 and all three at D = 60.
3. The static sections at defaults: the sentence trace, the bidirectional layer and the BPTT sweep, each ≤ 0.2 s.
"""
from __future__ import annotations

import time

from bench.common import best_of, report


def _lockstep(cfg, kinds, budget_s: float = 60.0, need: tuple = ()) -> dict:
    """Train `kinds` round-robin as the page does, until every one reached the target or `budget_s` ran out.
    With `need`, stop as soon as those have reached it. Returns {kind: (step reached or None, seconds when reached or None, last accuracy)}."""
    from engine.sequences import rnn as R
    its = {k: R.train_memory(cfg, k) for k in kinds}
    last = {k: next(it) for k, it in its.items()}
    t0 = time.perf_counter()
    when = {}
    need = need or tuple(kinds)
    while time.perf_counter() - t0 < budget_s and not all(k in when for k in need):
        for k, it in its.items():
            s = next(it, None)
            if s is None:
                continue
            last[k] = s
            if k not in when and s.reached is not None:
                when[k] = time.perf_counter() - t0
        if all(s.step >= cfg.steps for s in last.values()):
            break
    return {k: (last[k].reached, when.get(k), last[k].metrics["acc"]) for k in kinds}


def main() -> None:
    import torch
    torch.set_num_threads(1)
    from engine.sequences import rnn as R

    cfg = R.MemoryConfig()
    t = time.perf_counter()
    for k in R.KINDS:                  # torch's one-time start in a process (the app's warm-up pays it once)
        next(R.train_memory(R.MemoryConfig(delay=2, n_test=4), k))
    print(f"  first torch RNN/LSTM/GRU calls in this process (once per process): {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    its = {k: R.train_memory(cfg, k) for k in R.KINDS}
    for it in its.values():
        next(it)
    first = time.perf_counter() - t
    for it in its.values():
        next(it)
    curve = time.perf_counter() - t
    report("memory task: step 0 of all three (s) vs 2 s", first, 2.0)
    report("memory task: first trained point of all three (s) vs 2 s", curve, 2.0)

    res3 = _lockstep(cfg, R.KINDS, need=("lstm", "gru"))
    worst = max((v[1] if v[1] is not None else float("inf")) for k, v in res3.items() if k != "rnn")
    report(f"memory D={cfg.delay}: three in lockstep until LSTM and GRU reach 95 % (s) vs 60 s", worst, 60.0)
    for k, (step, sec, acc) in res3.items():
        print(f"    {k}: " + (f"95 % at update {step} after {sec:.1f} s" if sec is not None
                               else f"not at 95 % by the end (accuracy {100 * acc:.1f} %)"))
    for delay, kinds in ((5, R.KINDS), (20, ("rnn",)), (60, R.KINDS)):
        for k in kinds:
            step, sec, acc = _lockstep(R.MemoryConfig(delay=delay), (k,))[k]
            print(f"  D = {delay}, {k} alone: " + (f"95 % at update {step} after {sec:.1f} s" if sec is not None
                                                   else f"not at 95 % within 60 s (accuracy {100 * acc:.1f} %)"))

    text = "Hello, RNN! こんにちは"
    report("sentence trace (LSTM, H = 8) (s) vs 0.2 s", best_of(lambda: R.sentence_trace(text, "lstm", 8)), 0.2)
    report("bidirectional GRU (H = 8) (s) vs 0.2 s", best_of(lambda: R.sentence_bidirectional(text, "gru", 8)), 0.2)
    report("BPTT sweep, T = 100, three cells (s) vs 0.2 s", best_of(lambda: R.vanishing(100)), 0.2)


if __name__ == "__main__":
    main()
