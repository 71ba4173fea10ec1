"""GPT-3 chapter targets (issue 15), measured in one run and printed against their budgets:

1. One generated token of the pretrained character GPT (full context, sampling included) ≤ 20 ms.
2. The live in-context-learning model ≥ 20 optimiser steps/s (training time only, evaluation excluded).
3. One-shot accuracy ≥ 0.7 within 30 s of training on the default settings (time to first reach it).
4. RSS of the process after loading both character models and training the ICL model (the pages' share of the
   400 MB budget is printed; the BERT page's share is measured by its own benchmark).

Run: `python -m bench gpt3`.
"""
from __future__ import annotations

import resource
import time

from bench.common import best_of, report


def main() -> None:
    from engine.language import gpt3

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pre = gpt3.load_pretrained("en")
    gpt3.load_pretrained("ja")
    prompt = "The for statement is used to iterate over the elements of a sequence " * 2
    per_token = best_of(lambda: gpt3.generate(pre, prompt, n_new=50, temperature=0.8, top_p=0.95), repeat=5) / 50
    report("one generated token (context 64, T=0.8, top-p 0.95)", per_token * 1000, 20.0, unit="ms")

    cfg = gpt3.ICLConfig()
    reached, t_train, last = None, 0.0, None
    for snap in gpt3.train_icl(cfg):
        last = snap
        if reached is None and snap.eval.accuracy[1] >= 0.7:
            reached = snap.seconds
        if snap.seconds > 30 or snap.step >= 600:
            break
    steps_per_s = last.step / last.seconds
    report("ICL model optimiser steps/s (inverse: s per step)", 1 / steps_per_s, 1 / 20.0, unit="s")
    report("ICL one-shot accuracy ≥ 0.7 reached after (s of training)", reached if reached else float("inf"), 30.0)
    print(f"  ICL at step {last.step}: accuracy by shots {[round(a, 2) for a in last.eval.accuracy]}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report("RSS added by the GPT-3 engine (MB, peak)", rss - rss0, 400.0, unit="MB")


if __name__ == "__main__":
    main()
