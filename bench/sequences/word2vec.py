"""Word-embeddings chapter targets (issue #27, "for every chapter"), on one core (BLAS limited to one thread):

1. The live training shows a learning curve within 2 s: the time to the first snapshot after step 0 (the first
   point of the curve), for skip-gram and CBOW at the page's defaults, ≤ 2 s.
2. It reaches its task's target within 60 s: computing time until the held-out pair accuracy reaches
   `TARGET_PAIR_ACC` (60 %; chance 50 %), at the page's defaults, on the English and the Japanese text, ≤ 60 s.
3. Full softmax vs negative sampling: measured examples/s of each (skip-gram, page defaults) and the ratio, next
   to the ratio of multiply-adds.
"""
from __future__ import annotations

import time

from bench.common import report


def bench_curve_and_target() -> None:
    from engine.sequences import word2vec as W
    for lang in W.LANGS:
        W.corpus(lang)
        W.shipped_eval_pairs(lang)
        for arch in W.ARCHS:
            cfg = W.config_for(arch, lang=lang)
            t = time.perf_counter()
            it = W.train(cfg)
            next(it)
            snap = next(it)
            report(f"{lang} {arch}: first curve point (s) vs 2 s", time.perf_counter() - t, 2.0, target=1.0)
            reached = None
            for snap in it:
                if snap.metrics["pair_acc"] >= W.TARGET_PAIR_ACC:
                    reached = snap.seconds
                    break
                if snap.seconds > 120:
                    break
            if reached is None:
                print(f"  {lang} {arch}: target {W.TARGET_PAIR_ACC:.0%} NOT reached "
                      f"(best {snap.metrics['pair_acc']:.3f} after {snap.seconds:.1f} s, step {snap.step})")
                continue
            report(f"{lang} {arch}: s to {W.TARGET_PAIR_ACC:.0%} held-out pairs vs 60 s", reached, 60.0, target=1.0)
            print(f"    (step {snap.step}, {snap.examples:,} examples, {snap.examples / max(1, snap.step):.0f}"
                  f" examples per update)")


def bench_softmax_vs_neg() -> None:
    from engine.sequences import word2vec as W
    for lang in W.LANGS:
        c = W.corpus(lang)
        speed = {}
        for loss in W.LOSSES:
            it = W.train(W.W2VConfig(lang=lang, loss=loss, every=20))
            next(it)
            snap = next(it)
            speed[loss] = snap.examples / snap.seconds
        flops = {loss: W.flops_per_example("skipgram", loss, len(c.words), 50, 5, 5) for loss in W.LOSSES}
        print(f"  {lang}: negative sampling {speed['neg']:,.0f} examples/s, full softmax {speed['softmax']:,.0f}"
              f" examples/s: measured ratio {speed['neg'] / speed['softmax']:.1f}×, multiply-adds ratio "
              f"{flops['softmax'] / flops['neg']:.0f}× (V = {len(c.words)})")


def main() -> None:
    from threadpoolctl import threadpool_limits           # scikit-learn's dependency: BLAS on one thread
    with threadpool_limits(limits=1):
        bench_curve_and_target()
        bench_softmax_vs_neg()


if __name__ == "__main__":
    main()
