"""Count a module's FLOPs the way `torch.utils.flop_counter.FlopCounterMode` does, without touching other threads.

Why not `FlopCounterMode` itself: on `__enter__` it starts a `ModuleTracker`, which registers *process-global*
module forward hooks and multi-grad hooks (`torch.nn.modules.module.register_module_forward_pre_hook`). While one
session counted a network's MACs, every other session's forward and backward passes (Grad-CAM on the shared
MobileNetV2, VQ-VAE training) ran those hooks too and failed now and then. The dispatch-mode stack is per thread,
so a `TorchDispatchMode` alone sees only the calling thread's operators. This one applies the same formula registry
(`torch.utils.flop_counter.flop_registry`) and the same rule for operators without a formula (decompose them and
count the pieces), and keeps only the total.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# Metadata queries FlopCounterMode passes through untouched (answering NotImplemented lets the default run).
_PASS_THROUGH = {
    torch.ops.aten.sym_is_contiguous.default, torch.ops.aten.is_contiguous.default,
    torch.ops.aten.is_contiguous.memory_format, torch.ops.aten.is_strides_like_format.default,
    torch.ops.aten.is_non_overlapping_and_dense.default, torch.ops.aten.size.default,
    torch.ops.aten.sym_size.default, torch.ops.aten.stride.default, torch.ops.aten.sym_stride.default,
    torch.ops.aten.storage_offset.default, torch.ops.aten.sym_storage_offset.default,
    torch.ops.aten.numel.default, torch.ops.aten.sym_numel.default, torch.ops.aten.dim.default,
    torch.ops.prim.layout.default,
}


class _Count(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        from torch.utils.flop_counter import flop_registry
        self.registry = flop_registry
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _PASS_THROUGH:
            return NotImplemented
        packet = func._overloadpacket
        if packet not in self.registry and func is not torch.ops.prim.device.default:
            with self:
                r = func.decompose(*args, **kwargs)
                if r is not NotImplemented:
                    return r
        out = func(*args, **kwargs)
        if packet in self.registry:
            self.flops += self.registry[packet](*args, **kwargs, out_val=out)
        return out


def count_flops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """(fn's result, FLOPs of the operators it ran in this thread); FLOPs = 2·MACs for convolutions and matmuls.

    Equal to `FlopCounterMode(display=False).get_total_flops()` (tests/common/test_flops.py) and safe while other
    threads run models.
    """
    counter = _Count()
    with counter:
        out = fn(*args, **kwargs)
    return out, counter.flops
