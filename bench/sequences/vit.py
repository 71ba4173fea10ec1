"""Vision Transformer chapter targets (issue #27, "For every chapter"), each printed against its budget, on ONE core
(torch.set_num_threads(1)):

1. Our attention forward (engine/sequences/vit.py's written-out multi-head attention, weights returned per head)
   ≤ 1.0× torch.nn.MultiheadAttention's time on the same input and weights (need_weights=True,
   average_attn_weights=False: both return the same tensors), at the training size and at ViT-B/16's size.
   torch's fused path without weights (need_weights=False) is printed beside it, for information.
2. The live training shows a learning curve within 2 s: from making the generators to the second snapshot of both
   models (round robin, as the run object pulls them), digits already loaded (the load itself is printed apart).
3. The ViT reaches the page's target (≥ 90 % on the 1 000 test digits, 4 000 training digits) in ≤ 60 s of its own
   compute; the CNN's time to the same accuracy is printed beside it.
4. The page's heaviest embedding (a 224×224 image with P = 4: 3 136 patches) ≤ 1 s.
"""
from __future__ import annotations

import time

from bench.common import interleaved_min, report


def bench_attention() -> None:
    import torch

    from engine.sequences import vit as V
    for b, n, d, h in ((64, 17, 32, 4), (1, 197, 768, 12), (8, 197, 192, 3)):
        ours = V.build_vit(28, 7, 1, d, 1, h, 4 * d).layers[0].self_attention.eval()
        mha = torch.nn.MultiheadAttention(d, h, batch_first=True).eval()
        with torch.no_grad():
            mha.in_proj_weight.copy_(ours.in_proj_weight)
            mha.in_proj_bias.copy_(ours.in_proj_bias)
            mha.out_proj.load_state_dict(ours.out_proj.state_dict())
        x = torch.randn(b, n, d, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            y, a = ours(x)
            y_ref, a_ref = mha(x, x, x, need_weights=True, average_attn_weights=False)
            assert torch.allclose(y, y_ref, atol=1e-4) and torch.allclose(a, a_ref, atol=1e-5)

            def run_ours():
                ours(x)

            def run_mha():
                mha(x, x, x, need_weights=True, average_attn_weights=False)

            def run_fused():
                mha(x, x, x, need_weights=False)

            t_ours, t_mha = interleaved_min(run_ours, run_mha, rounds=60)
            _, t_fused = interleaved_min(run_ours, run_fused, rounds=30)
        report(f"attention forward B={b} N={n} D={d} h={h}: ours vs MHA", t_ours, t_mha, target=1.0)
        print(f"    (MHA without weights, fused: {t_fused * 1e3:.3f} ms; ours {t_ours * 1e3:.3f} ms)")


def bench_training() -> None:
    from engine.sequences import vit as V
    t = time.perf_counter()
    V.digits_split(4000, 0)
    print(f"  digits load (first in a process): {time.perf_counter() - t:.2f} s")
    cfg = V.DigitsConfig()
    t = time.perf_counter()
    its = V.race(cfg)
    for _ in range(2):
        snaps = {k: next(it) for k, it in its.items()}
    report("learning curve: 2nd snapshot of both models (s) vs 2 s", time.perf_counter() - t, 2.0, target=1.0)
    for name, it in its.items():
        s = snaps[name]
        while s.test_acc[-1] < V.TARGET_ACC:
            s = next(it, None)
            if s is None:
                break
        if s is None:
            print(f"  {name}: never reached {V.TARGET_ACC:.0%} in {cfg.steps} steps")
            continue
        print(f"  {name}: {100 * s.test_acc[-1]:.1f} % at step {s.step}")
        if name == "vit":
            report(f"ViT to ≥ {V.TARGET_ACC:.0%} test accuracy (s of compute) vs 60 s", s.seconds, 60.0, target=1.0)
        else:
            print(f"  CNN to the same accuracy: {s.seconds:.1f} s of compute")


def bench_embed() -> None:
    import numpy as np

    from engine.sequences import vit as V
    rgb = (np.random.default_rng(0).random((480, 640, 3)) * 255).astype(np.uint8)
    t = time.perf_counter()
    V.embed(V.prepare_image(rgb, 224), 4)
    report("page: prepare + embed 224×224, P = 4 (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)


def main() -> None:
    import torch
    torch.set_num_threads(1)
    bench_attention()
    bench_embed()
    bench_training()


if __name__ == "__main__":
    main()
