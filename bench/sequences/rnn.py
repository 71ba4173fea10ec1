"""RNN, LSTM, GRU chapter targets (issue #27, "For every chapter"), on one core (torch.set_num_threads(1)):

1. The live training shows a learning curve within 2 s: step 0 of the three cells plus their first trained point
   (25 updates each), what the page draws after the first Train, ≤ 2 s.
2. It reaches the task's target (≥ 95 % held-out accuracy on the memory task) in ≤ 60 s: the seconds the page's
   three cells, trained in lockstep, take until the LSTM and the GRU have both reached it at the default delay
   (D = 30). The simple RNN is reported too, at D = 30 and D = 60 (where it is meant to fail): the step it reached
   95 % at, or its accuracy when the 60 s ran out.
3. The static sections at defaults: the sentence trace, the bidirectional layer and the BPTT sweep, each ≤ 0.2 s.
"""
from __future__ import annotations

import time

from bench.common import best_of, report


def _lockstep(cfg, kinds, budget_s: float = 60.0) -> dict:
    """Train `kinds` round-robin as the page does, until every one reached the target or `budget_s` ran out.
    Returns {kind: (step reached or None, seconds when reached or None, last accuracy)}."""
    from engine.sequences import rnn as R
    its = {k: R.train_memory(cfg, k) for k in kinds}
    last = {k: next(it) for k, it in its.items()}
    t0 = time.perf_counter()
    when = {}
    while time.perf_counter() - t0 < budget_s and len(when) < len(kinds):
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
    its = {k: R.train_memory(cfg, k) for k in R.KINDS}
    for it in its.values():
        next(it)
    first = time.perf_counter() - t
    for it in its.values():
        next(it)
    curve = time.perf_counter() - t
    report("memory task: step 0 of all three (s) vs 2 s", first, 2.0)
    report("memory task: first trained point of all three (s) vs 2 s", curve, 2.0)

    res = _lockstep(cfg, ("lstm", "gru"))
    for k, (step, sec, acc) in res.items():
        if sec is None:
            print(f"  {k}: NOT reached 95 % within 60 s (accuracy {100 * acc:.1f} %)  OVER")
        else:
            report(f"memory D={cfg.delay}: {k} (with gru/lstm in lockstep) to 95 % (s) vs 60 s", sec, 60.0)
            print(f"    ({k} reached 95 % at update {step})")
    res3 = _lockstep(cfg, R.KINDS)
    worst = max((v[1] if v[1] is not None else float("inf")) for k, v in res3.items() if k != "rnn")
    report(f"memory D={cfg.delay}: all three in lockstep, LSTM and GRU at 95 % (s) vs 60 s", worst, 60.0)
    for k, (step, sec, acc) in res3.items():
        print(f"    {k}: " + (f"95 % at update {step} after {sec:.1f} s" if sec is not None
                               else f"not at 95 % within 60 s (accuracy {100 * acc:.1f} %)"))
    far = R.MemoryConfig(delay=60)
    step, sec, acc = _lockstep(far, ("rnn",))["rnn"]
    print(f"  simple RNN at D = 60 alone: " + (f"95 % at update {step} after {sec:.1f} s" if sec is not None
                                                 else f"not at 95 % within 60 s (accuracy {100 * acc:.1f} %)"))

    text = "Hello, RNN! こんにちは"
    report("sentence trace (LSTM, H = 8) (s) vs 0.2 s", best_of(lambda: R.sentence_trace(text, "lstm", 8)), 0.2)
    report("bidirectional GRU (H = 8) (s) vs 0.2 s", best_of(lambda: R.sentence_bidirectional(text, "gru", 8)), 0.2)
    report("BPTT sweep, T = 100, three cells (s) vs 0.2 s", best_of(lambda: R.vanishing(100)), 0.2)


if __name__ == "__main__":
    main()
