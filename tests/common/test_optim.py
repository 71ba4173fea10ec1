"""The NumPy optimisers of engine/common/optim.py against torch.optim, step by step (oracle: torch.optim)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.common import optim

# (numpy optimiser factory, torch.optim factory) with the same param_groups
CASES = {
    "sgd": (lambda ps, lr: optim.SGD(ps, lr), lambda ps, lr: torch.optim.SGD(ps, lr=lr)),
    "momentum": (lambda ps, lr: optim.SGD(ps, lr, momentum=0.9),
                 lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9, dampening=0)),
    "nesterov": (lambda ps, lr: optim.SGD(ps, lr, momentum=0.8, nesterov=True),
                 lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.8, dampening=0, nesterov=True)),
    "sgd_wd": (lambda ps, lr: optim.SGD(ps, lr, momentum=0.5, weight_decay=0.1),
               lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.5, weight_decay=0.1)),
    "adagrad": (lambda ps, lr: optim.AdaGrad(ps, lr, eps=1e-10),
                lambda ps, lr: torch.optim.Adagrad(ps, lr=lr, eps=1e-10)),
    "adagrad_eps": (lambda ps, lr: optim.AdaGrad(ps, lr, eps=1e-3),
                    lambda ps, lr: torch.optim.Adagrad(ps, lr=lr, eps=1e-3)),
    "rmsprop": (lambda ps, lr: optim.RMSProp(ps, lr, alpha=0.9, eps=1e-8),
                lambda ps, lr: torch.optim.RMSprop(ps, lr=lr, alpha=0.9, eps=1e-8)),
    "rmsprop_default": (lambda ps, lr: optim.RMSProp(ps, lr),
                        lambda ps, lr: torch.optim.RMSprop(ps, lr=lr)),
    "adam": (lambda ps, lr: optim.NumpyAdam(ps, lr, betas=(0.9, 0.999), eps=1e-8),
             lambda ps, lr: torch.optim.Adam(ps, lr=lr, betas=(0.9, 0.999), eps=1e-8, foreach=False)),
    "adam_eps": (lambda ps, lr: optim.NumpyAdam(ps, lr, betas=(0.5, 0.9), eps=1e-2),
                 lambda ps, lr: torch.optim.Adam(ps, lr=lr, betas=(0.5, 0.9), eps=1e-2, foreach=False)),
    "adam_l2": (lambda ps, lr: optim.NumpyAdam(ps, lr, weight_decay=0.05),
                lambda ps, lr: torch.optim.Adam(ps, lr=lr, weight_decay=0.05, foreach=False)),
    "adamw": (lambda ps, lr: optim.NumpyAdamW(ps, lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
              lambda ps, lr: torch.optim.AdamW(ps, lr=lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
                                               foreach=False)),
}


def _grad(theta: np.ndarray, a: np.ndarray) -> np.ndarray:
    """∇ of f(θ) = Σ a θ²/2 + Σ sin(θ) + (Σθ)²/10, a smooth non-quadratic test function."""
    return a * theta + np.cos(theta) + theta.sum() / 5


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_optimizer_equals_torch_optim(name, seed):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,)]
    starts = [rng.normal(size=s) * 2 for s in shapes]
    curv = [rng.uniform(0.1, 5.0, size=s) for s in shapes]
    lr = float(rng.choice([1e-3, 1e-2, 0.05]))
    mine = [s.copy() for s in starts]
    theirs = [torch.tensor(s, dtype=torch.float64, requires_grad=True) for s in starts]
    make_np, make_torch = CASES[name]
    opt, ref = make_np(mine, lr), make_torch(theirs, lr)
    for step in range(150):
        # one gradient sequence for both (taken at our θ): what differs is the update arithmetic alone, so torch's
        # fused multiply-adds (~1e-16 a step) do not grow through a chaotic trajectory
        grads = [_grad(p, a) for p, a in zip(mine, curv)]
        for p, g in zip(theirs, grads):
            p.grad = torch.from_numpy(g.copy())
        opt.step(grads)
        ref.step()
        for p, q in zip(mine, theirs):
            np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-11, atol=1e-13, err_msg=f"step {step}")  # FMA in torch: ~1e-16 a step


def test_numpy_optimizer_schedule_lr_changes_between_steps():
    """opt.lr set before each step = torch's param_group['lr'] set by a scheduler."""
    rng = np.random.default_rng(5)
    start = rng.normal(size=6)
    a = rng.uniform(0.5, 2, size=6)
    mine = start.copy()
    theirs = torch.tensor(start, requires_grad=True)
    opt, ref = optim.NumpyAdam(mine, 0.1), torch.optim.Adam([theirs], lr=0.1, foreach=False)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(ref, T_max=50)
    for step in range(50):
        opt.lr = ref.param_groups[0]["lr"]
        g = _grad(mine, a)
        theirs.grad = torch.from_numpy(g.copy())
        opt.step(g)
        ref.step()
        sched.step()
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_effective_lr_is_the_step_over_the_direction(name):
    """The effective learning rate times the direction (g, v or m̂) is the step taken, element by element."""
    rng = np.random.default_rng(3)
    theta = rng.normal(size=5)
    opt = optim.numpy_optimizer(name, theta, lr=0.01, eps=1e-8, weight_decay=0.0)
    for _ in range(7):
        g = _grad(theta, np.ones(5))
        before = theta.copy()
        opt.step(g)
        eff = opt.effective_lr()[0]
        if name in ("sgd", "adagrad", "rmsprop"):
            direction = g
        elif name == "momentum":
            direction = opt.v[0]
        elif name == "nesterov":
            direction = g + opt.momentum * opt.v[0]
        else:
            direction = opt.m[0] / (1 - opt.betas[0] ** opt.t)
        np.testing.assert_allclose(before - theta, eff * direction, rtol=1e-9)


def test_numpy_optimizer_by_name_matches_its_class():
    with pytest.raises(ValueError):
        optim.numpy_optimizer("lion", np.zeros(2), lr=0.1)
    opt = optim.numpy_optimizer("rmsprop", np.zeros(2), lr=0.1, rho=0.8, eps=1e-5)
    assert isinstance(opt, optim.RMSProp) and opt.alpha == 0.8 and opt.eps == 1e-5
    opt = optim.numpy_optimizer("adamw", np.zeros(2), lr=0.1, weight_decay=0.3)
    assert opt.decoupled and opt.weight_decay == 0.3


def test_numpy_optimizers_do_not_import_torch():
    import subprocess
    import sys
    code = "import sys, engine.common.optim as o, numpy as np; o.NumpyAdam(np.zeros(2)).step(np.ones(2)); " \
           "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_no_app_code_builds_a_torch_optim_optimiser():
    """The app's optimisers are engine/common/optim.py's: the first `torch.optim` optimiser of a process imports
    torch._dynamo (~3–6 s, ~150 MB on a cold server), which the warm-up no longer preloads. Code lines only
    (comments and docstrings may name torch.optim as the reference)."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    use = re.compile(r"torch\.optim\.(?!lr_scheduler\b)\w+\(|torch\.optim\.lr_scheduler\.\w+\(|"
                     r"from torch\.optim\b|from torch import optim\b|import torch\.optim\b")
    found = []
    for d in ("engine", "ui", "pages"):
        for p in (root / d).rglob("*.py"):
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if use.search(code) and not code.lstrip().startswith(("r\"\"\"", "\"\"\"", "`")):
                    found.append(f"{p.relative_to(root)}:{i}: {line.strip()}")
    assert found == []
    assert use.search("opt = torch.optim.Adam(params, lr=1e-3)") and use.search("from torch.optim import SGD")


def test_training_a_chapter_does_not_import_dynamo():
    """One chapter trained in a fresh process (compression: its base network and a distillation step) leaves
    torch._dynamo unimported; the same with a torch.optim optimiser would import it."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    code = ("import sys, torch; from engine.engineering import compression as C; C.trained_weights(0, epochs=1); "
            "print('torch._dynamo' in sys.modules); torch.optim.Adam([torch.zeros(1, requires_grad=True)]); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.stdout.split() == ["False", "True"], out.stderr[-2000:]
