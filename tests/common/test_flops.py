"""engine/common/flops.py: the same totals as torch's FlopCounterMode, and nothing outside the calling thread."""
import threading

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from engine.common.flops import count_flops


def _nets():
    torch.manual_seed(0)
    yield nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=4),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5)), (2, 3, 12, 12)
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    yield (lambda x: mha(x, x, x)[0]), (2, 7, 16)         # need_weights=True: the unfused path, bmm + linear


def test_totals_equal_flop_counter_mode():
    for net, shape in _nets():
        x = torch.randn(shape)
        with FlopCounterMode(display=False) as ref, torch.inference_mode():
            net(x)
        with torch.inference_mode():
            _, flops = count_flops(net, x)
        assert flops == ref.get_total_flops() and flops > 0


def test_meta_device_counts_like_a_real_run():
    net, shape = next(_nets())
    net.eval()
    with torch.inference_mode():
        _, real = count_flops(net.eval(), torch.randn(shape))
        meta_net = nn.Sequential(*[m.to("meta") for m in net])
        _, meta = count_flops(meta_net.eval(), torch.empty(shape, device="meta"))
    assert meta == real


def test_no_global_hooks_and_other_threads_unseen():
    """While one thread counts, another thread's forward/backward runs untouched and uncounted."""
    from torch.nn.modules import module as mod
    hooks_before = (len(mod._global_forward_pre_hooks), len(mod._global_forward_hooks))
    started, release = threading.Event(), threading.Event()
    seen: dict = {}

    def other():
        started.wait(5)
        lin = nn.Linear(50, 50)
        seen["hooks"] = (len(mod._global_forward_pre_hooks), len(mod._global_forward_hooks))
        lin(torch.randn(4, 50)).sum().backward()       # would be counted if the mode leaked across threads
        release.set()

    t = threading.Thread(target=other)
    t.start()

    def inside(x):
        started.set()
        release.wait(5)
        return x @ x                                    # (3, 3) @ (3, 3): 2·27 FLOPs

    _, flops = count_flops(inside, torch.ones(3, 3))
    t.join()
    assert flops == 2 * 27
    assert seen["hooks"] == hooks_before


def test_no_engine_uses_flop_counter_mode():
    """FlopCounterMode's ModuleTracker hooks every module of the process: engines count with count_flops."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    users = [p.relative_to(root).as_posix() for d in ("engine", "ui", "pages") for p in (root / d).rglob("*.py")
             if p.name != "flops.py" and "FlopCounterMode(" in p.read_text(encoding="utf-8") or "ModuleTracker(" in p.read_text(encoding="utf-8")]
    assert users == []
