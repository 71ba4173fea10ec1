"""CTC speed: α and β (engine.ctc) vs torch's CPU ctc_loss forward+backward, measured in the same run; the
page's cached rerun; trellis figure size at T = 400. Run: `python -m bench ctc` (or `python -m bench.ctc`)."""
from __future__ import annotations

import time

import numpy as np


def _best_of(fn, repeat: int = 7, number: int = 5) -> float:
    """Best mean time of `number` calls over `repeat` rounds (s): the least disturbed by other processes."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def main() -> None:
    import torch

    from engine import ctc

    T, C, U = 400, 32, 50
    rng = np.random.default_rng(0)
    log_probs = ctc.log_softmax(rng.standard_normal((T, C)))  # (T, C)
    targets = rng.integers(1, C, U).tolist()
    lp32 = torch.tensor(log_probs, dtype=torch.float32, requires_grad=True)
    lp64 = torch.tensor(log_probs, dtype=torch.float64, requires_grad=True)
    tgt = torch.tensor([targets])

    def torch_fb(x):
        def run():
            loss = torch.nn.functional.ctc_loss(x[:, None], tgt, [T], [U], reduction="sum")
            (g,) = torch.autograd.grad(loss, x)
            return g
        return run

    t_torch32 = _best_of(torch_fb(lp32))
    t_torch64 = _best_of(torch_fb(lp64))
    t_lattice = _best_of(lambda: ctc.lattice(log_probs, targets))
    t_separate = _best_of(lambda: (ctc.forward(log_probs, targets), ctc.backward(log_probs, targets)))
    t_grad = _best_of(lambda: ctc.gradient(log_probs, targets))
    print(f"CTC α+β at T={T}, C={C}, U={U} (torch {torch.__version__}, {torch.get_num_threads()} threads)")
    print(f"  torch ctc_loss fwd+bwd float32   {t_torch32 * 1e3:7.2f} ms   (reference)")
    print(f"  torch ctc_loss fwd+bwd float64   {t_torch64 * 1e3:7.2f} ms")
    print(f"  engine lattice (α, β, one loop)  {t_lattice * 1e3:7.2f} ms   ratio {t_lattice / t_torch32:.2f}x "
          f"(target ≤ 2x; vs float64 {t_lattice / t_torch64:.2f}x)")
    print(f"  engine forward + backward        {t_separate * 1e3:7.2f} ms   ratio {t_separate / t_torch32:.2f}x")
    print(f"  engine gradient (α, β, γ, y−γ)   {t_grad * 1e3:7.2f} ms   ratio {t_grad / t_torch32:.2f}x")

    from engine.figures import ctc as figs

    lat = ctc.lattice(log_probs, targets)
    best = ctc.best_alignment(log_probs, targets)
    sizes = {q: len(figs.plot_trellis(lat, ["-"] + [str(k) for k in range(1, C)], q, 0,
                                      {"viterbi": best.states}).to_json()) for q in ("alpha", "beta", "occupancy")}
    print("  trellis figure JSON at T=400: " + ", ".join(f"{q} {n / 1e6:.2f} MB" for q, n in sizes.items())
          + " (target < 2 MB)")

    _page_rerun()


def _page_rerun() -> None:
    """Time of a rerun of the page at defaults after a widget change (warm caches), via AppTest."""
    import sys
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    at = AppTest.from_file(str(root / "pages/speech/ctc.py"), default_timeout=120).run()
    at.slider(key="ctc.beam").set_value(5).run()
    times = []
    for width in (4, 5, 4, 5, 4, 5):
        t0 = time.perf_counter()
        at.slider(key="ctc.beam").set_value(width).run()
        times.append(time.perf_counter() - t0)
    print(f"  page rerun after a slider change (AppTest, warm): median {np.median(times) * 1e3:.0f} ms "
          f"(target ≤ 300 ms)")


if __name__ == "__main__":
    main()
