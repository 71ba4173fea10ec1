r"""The Grad-CAM family: CAM, Grad-CAM, Grad-CAM++, Guided Backprop, Guided Grad-CAM, and two checks of trust
(cascading weight randomisation and a deletion curve).

Every function takes ``(model, layer, x, target)``: a model laid out as ``features → GAP → classifier``
(see :mod:`engine.common.classifier`), a layer name ``"features.<i>"``, a normalised input ``x`` (1, 3, H, W) and a
class id. The shared model is never modified and no hook is registered: the trunk up to ``layer`` runs under
``torch.no_grad`` (nothing below the layer is needed), the activation becomes the leaf, and
``torch.autograd.grad`` differentiates the rest — so the backward pass stops at the target layer, and calls
from many threads at once are independent.

References
----------
Zhou et al., "Learning Deep Features for Discriminative Localization" (CAM), CVPR 2016.
Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization",
ICCV 2017 (Eq. 1 channel weights, Eq. 2 map).
Chattopadhyay et al., "Grad-CAM++", WACV 2018.
Springenberg et al., "Striving for Simplicity: The All Convolutional Net" (Guided Backprop), ICLR-W 2015.
Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018.
Petsiuk et al., "RISE" (deletion metric), BMVC 2018.
"""
from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.common.classifier import conv_layers, head, layer_index, split

METHODS = ("cam", "gradcam", "gradcampp", "guided_backprop", "guided_gradcam")
# The deletion test's two scikit-image photos, chosen by this module's own AUCs at the page's defaults (last layer,
# top-1 class, 8 steps, 16-px blocks, MobileNetV2 and EfficientNet-Lite0 alike; tests/explainability checks it):
# on "camera" (the model says "tripod", a compact object) every map beats the random order; on "chelsea" (the cat
# fills the frame, its class is written in fur all over it) the random order beats every map.
DELETION_LESSON = "camera"
DELETION_COUNTER = "chelsea"
EPS = 1e-7   # pytorch-grad-cam's epsilon in min-max scaling


# ---------------------------------------------------------------------------------------------------------------
# Channel weights α_k: each CAM variant is one short function of (activations, gradients).
# ---------------------------------------------------------------------------------------------------------------
def gradcam_weights(activations: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    r"""Grad-CAM: $\alpha_k^c = \frac{1}{Z}\sum_i\sum_j \frac{\partial y^c}{\partial A^k_{ij}}$ (global-average-pooled
    gradients). activations, grads: (K, h, w) → (K,)."""
    return grads.mean(dim=(1, 2))


def gradcampp_weights(activations: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    r"""Grad-CAM++ with the exponential-output closed form:
    $a^{kc}_{ij} = \frac{g^2}{2g^2 + \sum_{ab}A^k_{ab}\,g^3}$, $\alpha_k^c = \sum_{ij} a^{kc}_{ij}\,\mathrm{ReLU}(g_{ij})$."""
    g2, g3 = grads ** 2, grads ** 3                                        # (K, h, w)
    sum_a = activations.sum(dim=(1, 2), keepdim=True)                      # (K, 1, 1)
    aij = g2 / (2 * g2 + sum_a * g3 + EPS)
    aij = torch.where(grads != 0, aij, torch.zeros_like(aij))
    return (torch.relu(grads) * aij).sum(dim=(1, 2))                       # (K,)


CHANNEL_WEIGHTS = {"gradcam": gradcam_weights, "gradcampp": gradcampp_weights}


def cam_map(activations: torch.Tensor, grads: torch.Tensor, method: str = "gradcam"
            ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The map at the layer's own resolution and its channel weights, from $A^k$ and $\partial y^c/\partial A^k$
    (K, h, w) each: $L^c = \mathrm{ReLU}(\sum_k \alpha_k^c A^k)$ (h, w), α (K,)."""
    alpha = CHANNEL_WEIGHTS[method](activations, grads)                     # (K,)
    # L^c = ReLU(Σ_k α_k^c A^k)
    return torch.relu(torch.einsum("k,khw->hw", alpha, activations)), alpha


@dataclass(frozen=True)
class CamResult:
    heatmap: np.ndarray     # (H, W) in [0, 1], at input resolution
    cam: np.ndarray         # (h, w) ReLU(Σ_k α_k A^k) at the layer's resolution, before scaling
    weights: np.ndarray     # (K,) channel importances α_k^c (CAM: the fc weights w_k^c)
    activations: np.ndarray  # (K,) spatial mean of A^k, to show α_k next to how strongly channel k fired
    score: float            # y^c, the target's logit
    layer: str
    method: str


def _scale_up(cam: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """Min-max scale to [0, 1], then bilinear upsampling to the input size (pytorch-grad-cam's order)."""
    cam = cam - cam.min()
    cam = cam / (cam.max() + EPS)
    up = F.interpolate(cam[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]   # (H, W)
    return up.clamp(0, 1).numpy()


def activation_and_grad(model: nn.Module, layer: str, x: torch.Tensor, target: int
                        ) -> tuple[torch.Tensor, torch.Tensor, float]:
    r"""$A^k$ at `layer` and $\partial y^c / \partial A^k$, both (K, h, w); and the logit $y^c$.
    The backward pass starts at $y^c$ and stops at A (the trunk ran without autograd)."""
    trunk, rest = split(model, layer)
    with torch.no_grad():
        a = trunk(x)                                                        # (1, K, h, w)
    a = a.detach().requires_grad_(True)
    y = rest(a)[0, target]                                                  # y^c, a scalar logit
    (grad,) = torch.autograd.grad(y, a)                                     # (1, K, h, w)
    return a.detach()[0], grad[0], float(y.detach())


def layer_cam(model: nn.Module, layer: str, x: torch.Tensor, target: int, method: str = "gradcam") -> CamResult:
    r"""A class activation map with its channel weights.

    $$L^c_{\text{Grad-CAM}} = \mathrm{ReLU}\Big(\sum_k \alpha_k^c A^k\Big), \qquad
      \alpha_k^c = \frac{1}{Z}\sum_i\sum_j \frac{\partial y^c}{\partial A^k_{ij}}$$

    ``method`` is "gradcam" or "gradcampp" (any layer), or "cam" (last layer only: $\alpha_k^c = w_k^c$, the
    weights of the fc layer after GAP, Zhou et al. 2016).
    """
    if method == "cam":
        return _cam(model, layer, x, target)
    a, g, score = activation_and_grad(model, layer, x, target)
    cam, alpha = cam_map(a, g, method)                                      # (h, w), (K,)
    return CamResult(heatmap=_scale_up(cam, tuple(x.shape[-2:])), cam=cam.numpy(), weights=alpha.numpy(),
                     activations=a.mean(dim=(1, 2)).numpy(), score=score, layer=layer, method=method)


def _fc(model: nn.Module) -> nn.Linear:
    linears = [m for m in model.classifier.modules() if isinstance(m, nn.Linear)]
    if len(linears) != 1:
        raise ValueError("CAM needs GAP followed by exactly one fully connected layer")
    return linears[0]


def _cam(model: nn.Module, layer: str, x: torch.Tensor, target: int) -> CamResult:
    last = conv_layers(model)[-1]
    if layer != last:
        raise ValueError(f"CAM is defined only at the last feature map ({last}), before GAP; got {layer!r}")
    fc = _fc(model)
    with torch.inference_mode():
        a = model.features(x)[0]                                            # (K, h, w)
        w = fc.weight[target]                                               # (K,) w_k^c
        score = float(head(model, a[None])[0, target])
        # M_c(x, y) = Σ_k w_k^c f_k(x, y)   (Zhou et al. 2016); ReLU as in Grad-CAM for display
        cam = torch.relu(torch.einsum("k,khw->hw", w, a))                  # (h, w)
        return CamResult(heatmap=_scale_up(cam, tuple(x.shape[-2:])), cam=cam.clone().numpy(),
                         weights=w.clone().numpy(), activations=a.mean(dim=(1, 2)).numpy(), score=score,
                         layer=layer, method="cam")


def cam(model: nn.Module, layer: str, x: torch.Tensor, target: int) -> np.ndarray:
    r"""CAM (H, W) in [0, 1]: $M_c = \sum_k w_k^c A^k$ at the last feature map (`layer` must be it)."""
    return _cam(model, layer, x, target).heatmap


def grad_cam(model: nn.Module, layer: str, x: torch.Tensor, target: int) -> np.ndarray:
    r"""Grad-CAM (H, W) in [0, 1]: $\mathrm{ReLU}(\sum_k \alpha_k^c A^k)$, α = GAP of $\partial y^c/\partial A^k$."""
    return layer_cam(model, layer, x, target, "gradcam").heatmap


def grad_cam_pp(model: nn.Module, layer: str, x: torch.Tensor, target: int) -> np.ndarray:
    """Grad-CAM++ (H, W) in [0, 1]."""
    return layer_cam(model, layer, x, target, "gradcampp").heatmap


# ---------------------------------------------------------------------------------------------------------------
# Guided Backprop: a private copy of the model whose ReLUs pass back only positive gradients.
# ---------------------------------------------------------------------------------------------------------------
class _GuidedClamp(torch.autograd.Function):
    """y = clamp(x, 0, upper); backward: ∂L/∂x = ReLU(∂L/∂y) · 1[0 < x < upper] (Springenberg et al. 2015)."""

    @staticmethod
    def forward(ctx, x, upper):
        ctx.save_for_backward(x)
        ctx.upper = upper
        return x.clamp(min=0) if upper is None else x.clamp(0, upper)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        live = x > 0
        if ctx.upper is not None:
            live = live & (x < ctx.upper)
        # guided: forward mask (x > 0) times backward mask (gradient > 0)
        return grad_out.clamp(min=0) * live.to(grad_out.dtype), None


class GuidedReLU(nn.Module):
    def __init__(self, upper: float | None = None):
        super().__init__()
        self.upper = upper

    def forward(self, x):
        return _GuidedClamp.apply(x, self.upper)


def guided_copy(model: nn.Module) -> nn.Module:
    """A deep copy of `model` with every ReLU/ReLU6 replaced by :class:`GuidedReLU` (the original is untouched)."""
    twin = copy.deepcopy(model)

    def swap(parent: nn.Module) -> None:
        for name, child in parent.named_children():
            if isinstance(child, nn.ReLU6):
                setattr(parent, name, GuidedReLU(6.0))
            elif isinstance(child, nn.ReLU):
                setattr(parent, name, GuidedReLU(None))
            else:
                swap(child)

    swap(twin)
    return twin.eval()


_GUIDED: "weakref.WeakKeyDictionary[nn.Module, nn.Module]" = weakref.WeakKeyDictionary()
_GUIDED_LOCK = threading.Lock()


def _guided(model: nn.Module) -> nn.Module:
    with _GUIDED_LOCK:   # one copy per model, built once even when many threads ask at once
        if model not in _GUIDED:
            _GUIDED[model] = guided_copy(model)
        return _GUIDED[model]


def guided_backprop(model: nn.Module, layer: str, x: torch.Tensor, target: int) -> np.ndarray:
    r"""Guided Backprop (H, W, 3): $\partial y^c/\partial x$ through ReLUs that pass back only positive
    gradients where the forward input was positive. `layer` is unused (kept for a uniform signature).
    Layout (H, W, 3) as pytorch-grad-cam's ``GuidedBackpropReLUModel``."""
    del layer
    guided = _guided(model)
    xg = x.detach().clone().requires_grad_(True)                           # (1, 3, H, W)
    y = guided(xg)[0, target]
    (grad,) = torch.autograd.grad(y, xg)                                    # (1, 3, H, W)
    return grad[0].permute(1, 2, 0).numpy()                                 # (H, W, 3)


def guided_grad_cam(model: nn.Module, layer: str, x: torch.Tensor, target: int) -> np.ndarray:
    r"""Guided Grad-CAM (H, W, 3): Guided Backprop ⊙ Grad-CAM, elementwise at input resolution."""
    return combine_guided(guided_backprop(model, layer, x, target), grad_cam(model, layer, x, target))


def combine_guided(gb: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    r"""Guided Grad-CAM from its two parts (the one implementation; the page reuses the parts it already has):

    $$\text{Guided Grad-CAM} = \text{GB} \odot L^c_{\text{Grad-CAM}}\ \text{(upsampled to the input)}$$
    """
    # GB (H, W, 3) ⊙ L^c (H, W) broadcast over the colour channels
    return gb * heatmap[..., None]


def deprocess(grad: np.ndarray) -> np.ndarray:
    """A gradient image (H, W, 3) → displayable uint8: standardise, std 0.1 around grey 0.5, clip
    (the display of Springenberg et al. and pytorch-grad-cam's ``deprocess_image``)."""
    g = (grad - grad.mean()) / (grad.std() + 1e-5) * 0.1 + 0.5
    return (np.clip(g, 0, 1) * 255).astype(np.uint8)


def saliency(model: nn.Module, layer: str, x: torch.Tensor, target: int, method: str) -> np.ndarray:
    """Any method as one (H, W) importance map in [0, 1] (gradient images: |·| summed over colour channels)."""
    if method in ("cam", "gradcam", "gradcampp"):
        return layer_cam(model, layer, x, target, method).heatmap
    fn = {"guided_backprop": guided_backprop, "guided_gradcam": guided_grad_cam}[method]
    m = np.abs(fn(model, layer, x, target)).sum(axis=2)
    return m / (m.max() + EPS)


# ---------------------------------------------------------------------------------------------------------------
# Can I trust it? (1) cascading randomisation, (2) deletion curve.
# ---------------------------------------------------------------------------------------------------------------
def randomization_order(model: nn.Module) -> list[str]:
    """Top-down order of Adebayo et al.'s cascade: the classifier, then features.<last>, features.<last-1>, …"""
    return ["classifier", *reversed(conv_layers(model))]


def randomized_copy(model: nn.Module, n_top: int, seed: int = 0) -> nn.Module:
    """A copy of `model` whose top `n_top` blocks (see :func:`randomization_order`) have their conv/linear weights
    re-drawn from N(0, σ²) with σ the original weights' standard deviation (a local generator, not the global
    RNG). BatchNorm statistics are kept, so the network still computes something of the same scale."""
    twin = copy.deepcopy(model)
    g = torch.Generator().manual_seed(seed)
    names = randomization_order(model)[:n_top]
    with torch.no_grad():
        for name in names:
            block = twin.get_submodule(name)
            for m in block.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    std = float(m.weight.std()) or 0.01
                    m.weight.copy_(torch.randn(m.weight.shape, generator=g) * std)
                    if m.bias is not None:
                        m.bias.zero_()
    return twin.eval()


@dataclass(frozen=True)
class SanityResult:
    randomized: list[str]   # (S,) the block randomised last at each step ("" for the trained model)
    maps: np.ndarray        # (S, H, W) the method's map after randomising the top s blocks
    spearman: np.ndarray    # (S,) rank correlation of each map with the trained model's map (1 = unchanged)


def rank_correlation(a: np.ndarray, b: np.ndarray, size: int = 56) -> float:
    """Spearman rank correlation of two maps after average-pooling to size×size (Adebayo et al. compare ranks)."""
    from scipy.stats import spearmanr

    def pool(m):
        t = torch.as_tensor(np.ascontiguousarray(m), dtype=torch.float32)[None, None]
        return F.adaptive_avg_pool2d(t, size).flatten().numpy()

    pa, pb = pool(a), pool(b)
    if pa.std() == 0 or pb.std() == 0:
        return 0.0
    return float(spearmanr(pa, pb).statistic)


def sanity_check(model: nn.Module, layer: str, x: torch.Tensor, target: int, method: str = "gradcam",
                 steps: int = 4, seed: int = 0, progress: Callable[[float], None] | None = None) -> SanityResult:
    """Cascading model-parameter randomisation (Adebayo et al. 2018): a map that does not change when the
    weights it claims to explain are destroyed is not explaining the model. `progress(fraction)` is called as each
    step ends."""
    if method == "cam" and layer != conv_layers(model)[-1]:
        layer = conv_layers(model)[-1]
    order = randomization_order(model)
    maps, names = [], []
    for s in range(steps + 1):
        m = model if s == 0 else randomized_copy(model, s, seed)
        maps.append(saliency(m, layer, x, target, method))
        names.append("" if s == 0 else order[s - 1])
        if progress:
            progress((s + 1) / (steps + 1))
    maps = np.stack(maps)                                                   # (S, H, W)
    rho = np.array([rank_correlation(maps[0], mp) for mp in maps])
    return SanityResult(randomized=names, maps=maps, spearman=rho)


@dataclass(frozen=True)
class DeletionCurve:
    fractions: np.ndarray   # (S,) share of pixels removed, 0 … 1
    probs: np.ndarray       # (S,) softmax probability of the target after removing them
    auc: float              # area under the curve (lower = the map found the evidence faster)


def patch_importance(importance: np.ndarray, patch: int) -> np.ndarray:
    """(H, W) → the mean importance of each patch×patch block, repeated over the block (H, W)."""
    if patch <= 1:
        return importance
    h, w = importance.shape
    t = torch.as_tensor(np.ascontiguousarray(importance), dtype=torch.float64)[None, None]
    pooled = F.adaptive_avg_pool2d(t, (-(-h // patch), -(-w // patch)))                 # (1, 1, ⌈H/p⌉, ⌈W/p⌉)
    return F.interpolate(pooled, size=(h, w), mode="nearest")[0, 0].numpy()


def deletion_curve(model: nn.Module, x: torch.Tensor, importance: np.ndarray, target: int, steps: int = 16,
                   baseline: torch.Tensor | None = None, patch: int = 1) -> DeletionCurve:
    r"""Remove the most important pixels first (replace them by `baseline`, default 0 = the dataset mean in
    normalised space) and record $p(c \mid x_{\text{deleted}})$; $\mathrm{AUC} = \int_0^1 p\,d\text{fraction}$
    (trapezoid). With `patch` > 1 whole patch×patch blocks go at once, ranked by their mean importance, so that
    scattered single pixels (a sharp or random map) do not act as adversarial noise and every method is compared
    at one granularity. One batched forward pass, no autograd."""
    importance = patch_importance(importance, patch)
    h, w = importance.shape
    order = torch.as_tensor(np.argsort(-importance.ravel(), kind="stable").copy())   # (H·W,) most important first
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * h * w).astype(int)
    rank = torch.empty(h * w, dtype=torch.long)
    rank[order] = torch.arange(h * w)                                       # rank of each pixel
    keep = (rank[None, :] >= torch.as_tensor(counts)[:, None]).view(-1, 1, h, w).float()   # (S, 1, H, W)
    base = torch.zeros_like(x) if baseline is None else baseline
    batch = x * keep + base * (1 - keep)                                    # (S, 3, H, W)
    with torch.inference_mode():
        probs = torch.cat([torch.softmax(model(b), 1)[:, target] for b in batch.split(8)]).numpy()   # (S,)
    # AUC = Σ (p_i + p_{i+1})/2 · Δfraction
    auc = float(np.sum((probs[1:] + probs[:-1]) / 2 * np.diff(fractions)))
    return DeletionCurve(fractions=fractions, probs=probs, auc=auc)


def random_importance(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A random map: the deletion curve's floor (a method should beat it)."""
    return rng.random(shape)


METHODS = ("cam", "gradcam", "gradcampp", "guided_backprop", "guided_gradcam")


def explain_family(model: nn.Module, layer: str, x: torch.Tensor, target: int,
                   progress: Callable[[float], None] | None = None) -> dict:
    """Every map of the family for one (image, layer, class): CAM (always at the last conv layer, where the
    classifier's weights apply), Grad-CAM, Grad-CAM++ (CamResult each), Guided Backprop and Guided Grad-CAM
    ((H, W, 3) gradient images). `progress(fraction)` is called as each map is done."""
    last = conv_layers(model)[-1]
    jobs = {"cam": lambda: layer_cam(model, last, x, target, "cam"),
            "gradcam": lambda: layer_cam(model, layer, x, target, "gradcam"),
            "gradcampp": lambda: layer_cam(model, layer, x, target, "gradcampp"),
            "guided_backprop": lambda: guided_backprop(model, layer, x, target)}
    out = {}
    for i, (name, job) in enumerate(jobs.items()):
        out[name] = job()
        if progress:
            progress((i + 1) / len(jobs))
    out["guided_gradcam"] = combine_guided(out["guided_backprop"], out["gradcam"].heatmap)
    return out


def deletion_comparison(model: nn.Module, layer: str, x: torch.Tensor, target: int, steps: int, patch: int,
                        rng: np.random.Generator, n_random: int = 4,
                        progress: Callable[[float], None] | None = None) -> dict[str, DeletionCurve]:
    r"""The deletion curve of every method's map (CAM at the last conv layer) and of a random order, all removing
    patch×patch blocks: which map finds the evidence fastest (lowest AUC). The random reference is the mean curve
    of `n_random` independent random orders (one draw alone varies by a factor of two on a photo), so its AUC is
    the mean of theirs: $\mathrm{AUC}_{\text{random}} = \frac{1}{R}\sum_{r=1}^{R}\mathrm{AUC}_r$ (the trapezoid rule
    is linear). `progress(fraction)` per curve."""
    last = conv_layers(model)[-1]
    curves = {}
    total = len(METHODS) + n_random
    for i, m in enumerate(METHODS):
        curves[m] = deletion_curve(model, x, saliency(model, last if m == "cam" else layer, x, target, m), target,
                                   steps=steps, patch=patch)
        if progress:
            progress((i + 1) / total)
    draws = []
    for r in range(n_random):
        draws.append(deletion_curve(model, x, random_importance(tuple(x.shape[-2:]), rng), target, steps=steps,
                                    patch=patch))
        if progress:
            progress((len(METHODS) + r + 1) / total)
    probs = np.mean([d.probs for d in draws], axis=0)                       # (S,) the mean random curve
    # AUC = Σ (p_i + p_{i+1})/2 · Δfraction of the mean curve = the mean of the draws' AUCs
    auc = float(np.sum((probs[1:] + probs[:-1]) / 2 * np.diff(draws[0].fractions)))
    curves["random"] = DeletionCurve(fractions=draws[0].fractions, probs=probs, auc=auc)
    return curves


def beats_random(curves: dict[str, DeletionCurve]) -> tuple[str, ...]:
    """The methods whose deletion AUC is below the random order's (they found the evidence faster than chance)."""
    return tuple(m for m, c in curves.items() if m != "random" and c.auc < curves["random"].auc)


def layer_shapes(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """(K, h, w) of every stage, for the layer picker."""
    out, a = {}, x
    with torch.inference_mode():
        for name, block in zip(conv_layers(model), model.features):
            a = block(a)
            out[name] = tuple(a.shape[1:])
    return out


__all__ = ["CamResult", "DeletionCurve", "SanityResult", "beats_random", "cam", "deletion_comparison",
           "deletion_curve", "deprocess", "grad_cam",
           "grad_cam_pp", "guided_backprop", "guided_grad_cam", "layer_cam", "layer_index", "sanity_check"]
