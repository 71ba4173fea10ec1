"""Model compression chapter targets (issue #28), each printed against its budget (one torch thread, as app.py
serves every page with OMP_NUM_THREADS=1):

1. The live distillation: first snapshot ≤ 1 s (teacher already trained; its one-off training per process printed
   apart), one pull (`every` = 40 updates of both students) well under the run object's 0.35 s refresh budget.
2. int8 quantisation: the saved int8 checkpoint (torch.save into memory) ≤ 0.3 × the float32 one; torch's int8
   kernels' forward time vs float32's on the 1 000 test digits (printed, the page's measured speed); our NumPy
   integer arithmetic's time (printed: NumPy has no int8 matrix kernel).
3. The page's cached steps at defaults: the sparsity curve, one fine-tuning (200 updates), the quantisation report.
4. MobileNetV2 on a photo: one compressed copy (10 % pruned, int8 per tensor, BatchNorm folded) ≤ 3 s; its size.
"""
from __future__ import annotations

import time

import torch

from bench.common import report


def main() -> None:
    torch.set_num_threads(1)            # a separate benchmark process: as app.py serves it (OMP_NUM_THREADS=1)
    from engine.engineering import compression as C

    t = time.perf_counter()
    C.digits_data(0)
    print(f"  digits load (first in a process): {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    C.trained_weights(0)
    print(f"  teacher training (once per process, 4 epochs): {time.perf_counter() - t:.2f} s")

    t = time.perf_counter()
    it = C.distill(C.DistillConfig())
    next(it)
    report("distillation first snapshot (s) vs 1 s", time.perf_counter() - t, 1.0)
    pulls = []
    for _ in range(5):
        t = time.perf_counter()
        next(it)
        pulls.append(time.perf_counter() - t)
    report("distillation one pull (40 updates × 2 students) vs 0.35 s", min(pulls), 0.35, target=0.5)
    t = time.perf_counter()
    last = None
    for last in it:
        pass
    print(f"  the default run to its end ({last.step} updates): {time.perf_counter() - t:.1f} s; test accuracy with "
          f"the teacher {last.metrics['kd.acc']:.3f}, labels only {last.metrics['ce.acc']:.3f} "
          f"(teacher {last.teacher_acc:.3f})")
    big = C.DistillConfig(n_train=4000, hidden=64)
    it = C.distill(big)
    next(it)
    t = time.perf_counter()
    next(it)
    report("… with 4 000 digits, 64 hidden units vs 0.35 s", time.perf_counter() - t, 0.35, target=0.5)

    for scheme in C.SCHEMES:
        t = time.perf_counter()
        rep = C.quant_report(0, scheme)
        print(f"  quantisation report ({scheme}): {time.perf_counter() - t:.2f} s; accuracy float "
              f"{rep.acc_float:.3f}, int8 weights {rep.acc_weights:.3f}, int8 ours {rep.acc_int8:.3f}, "
              f"torch {rep.acc_torch:.3f} (agree {rep.agree_torch:.3f})")
        report(f"int8 checkpoint bytes vs float32 ({scheme})", rep.bytes_int8, rep.bytes_float, unit="B",
               target=0.3)
        report(f"torch int8 forward (1 000 digits) vs float32 ({scheme})", rep.seconds_torch, rep.seconds_float)
        print(f"    our NumPy integer forward: {1000 * rep.seconds_ours:.2f} ms "
              f"({rep.seconds_ours / rep.seconds_float:.0f}× float32)")

    t = time.perf_counter()
    C.sparsity_curve(0)
    report("sparsity curve (13 amounts × 2 modes) (s) vs 1 s", time.perf_counter() - t, 1.0)
    for mode in C.MODES:
        t = time.perf_counter()
        C.fine_tune(0, 0.8, mode, steps=200, every=20)
        report(f"fine-tuning 200 updates, {mode} (s) vs 1 s", time.perf_counter() - t, 1.0)

    from engine.common import classifier
    try:
        model = classifier.load_mobilenet_v2()
    except classifier.WeightsUnavailable as err:
        print(f"  MobileNetV2 skipped: {err}")
        return
    import skimage.data
    from PIL import Image
    x = classifier.preprocess(Image.fromarray(skimage.data.chelsea())).x
    for amount, quant in ((0.1, "per_tensor"), (0.3, "per_channel")):
        t = time.perf_counter()
        r = C.compress_imagenet(model, x, amount, quant, True)
        report(f"MobileNetV2 copy: {amount:.0%} pruned, int8 {quant}, folded (s) vs 3 s", time.perf_counter() - t,
               3.0)
        print(f"    saved {r.bytes_c / 1e6:.2f} MB vs {r.bytes_float / 1e6:.2f} MB float32; KL {r.kl:.3f}; "
              f"top-1 {'kept' if r.probs.argmax() == r.probs_c.argmax() else 'changed'}")


if __name__ == "__main__":
    main()
