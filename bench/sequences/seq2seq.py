"""Encoder–decoder chapter targets (issue #27, "For every chapter"), each printed against its budget, on one core
(torch.set_num_threads(1)):

1. A learning curve within 2 s: the page's first snapshot of a model plus its first training pull (5 updates and
   the held-out evaluation), for each decoder (no attention, additive, dot).
2. The task's target, ≥ 95 % exact dates, in ≤ 60 s of training: seconds of the generator's own compute (as the
   page counts them) until the snapshot's held-out exact match reaches 95 % and the model at that point also
   gets ≥ 95 % of 1 000 fresh pairs exactly right, for each decoder, at the page's defaults (GRU, H = 64).
3. Attention forward ≤ 1.0× `torch.nn.MultiheadAttention`'s time on the same input (one query per sequence over
   the 18 encoder states of a batch of 64, H = 64, padding mask): our dot-product and additive attention against
   a one-head MultiheadAttention (and, printed, against `F.scaled_dot_product_attention`).
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from bench.common import interleaved_min, report

CAP_S = 120.0


def bench_curve_and_target() -> None:
    from engine.common import seqtasks
    from engine.sequences import seq2seq as M

    base = M.Seq2SeqConfig(steps=100_000)
    for _ in zip(range(2), M.train(replace(base, seed=1))):   # warm-up: torch's first calls, as a page process has
        pass
    fresh = seqtasks.get_task("dates").sample(np.random.default_rng(2026), 1000)
    for attention in M.ATTENTIONS:
        cfg = replace(base, attention=attention)
        t = time.perf_counter()
        it = M.train(cfg)
        next(it)
        next(it)
        report(f"{attention}: first curve point (s) vs 2 s", time.perf_counter() - t, 2.0, target=1.0)
        snap = ev = None
        for snap in it:
            if snap.seconds > CAP_S:
                break
            if snap.metrics["exact"] >= M.TARGET:        # confirmed on 1 000 fresh pairs (not counted as training)
                model = M.model_from_state(cfg, snap.state)
                ev = M.evaluate(model, model.task, fresh)
                if ev.exact >= M.TARGET:
                    break
        report(f"{attention}: training s to ≥ 95 % exact dates vs 60 s", snap.seconds, 60.0, target=1.0)
        if ev is not None:
            print(f"    update {snap.step}: held-out exact {100 * snap.metrics['exact']:.1f} %, on 1 000 fresh "
                  f"pairs {100 * ev.exact:.1f} % exact, {100 * ev.char:.1f} % characters", flush=True)


def bench_attention() -> None:
    import torch
    import torch.nn.functional as F

    from engine.sequences import seq2seq as M

    g = torch.Generator().manual_seed(0)
    B, S, H = 64, 18, 64
    q, k = torch.randn(B, H, generator=g), torch.randn(B, S, H, generator=g)
    lengths = torch.randint(10, S + 1, (B,), generator=g)
    mask = torch.arange(S)[None] < lengths[:, None]                       # (B, S)
    mha = torch.nn.MultiheadAttention(H, 1, batch_first=True).eval()
    W, U, v = torch.randn(H, H, generator=g), torch.randn(H, H, generator=g), torch.randn(H, generator=g)

    def ours_dot():
        with torch.no_grad():
            M.dot_attention(q, k, mask)

    def ours_additive():
        with torch.no_grad():
            a = M.masked_softmax(M.additive_scores(q, k @ U.T, W, v), mask)
            M.attend(a, k)

    def theirs():
        with torch.no_grad():
            mha(q[:, None], k, k, key_padding_mask=~mask)

    def sdpa():
        with torch.no_grad():
            F.scaled_dot_product_attention(q[:, None], k, k, attn_mask=mask[:, None], scale=1.0)

    for name, fn in (("dot", ours_dot), ("additive", ours_additive)):
        a, b = interleaved_min(lambda: [fn() for _ in range(100)], lambda: [theirs() for _ in range(100)])
        report(f"{name} attention forward vs nn.MultiheadAttention (s)", a / 100, b / 100, target=1.0)
    a, b = interleaved_min(lambda: [ours_dot() for _ in range(100)], lambda: [sdpa() for _ in range(100)])
    print(f"    dot attention vs F.scaled_dot_product_attention: ratio {a / b:.2f} (information)", flush=True)


def main() -> None:
    import torch

    torch.set_num_threads(1)
    bench_attention()
    bench_curve_and_target()


if __name__ == "__main__":
    main()
