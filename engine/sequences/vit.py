r"""Vision Transformer (ViT): an image cut into patches, the linear patch embedding, [CLS] and position embeddings,
the attention of [CLS] to the patches, the cost in tokens, and a small ViT trained on real digits next to a CNN with
the same number of parameters.

Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale", ICLR 2021,
Eq. 1–4: an image $x \in \mathbb{R}^{H \times W \times C}$ becomes $N = HW/P^2$ flattened patches
$x_p \in \mathbb{R}^{N \times (P^2 C)}$,

$$z_0 = [x_\text{class};\, x_p^1 E;\, \dots;\, x_p^N E] + E_\text{pos},\quad E \in \mathbb{R}^{(P^2 C) \times D},\;
  E_\text{pos} \in \mathbb{R}^{(N+1) \times D}$$
$$z'_\ell = \mathrm{MSA}(\mathrm{LN}(z_{\ell-1})) + z_{\ell-1},\quad
  z_\ell = \mathrm{MLP}(\mathrm{LN}(z'_\ell)) + z'_\ell,\quad y = \mathrm{LN}(z_L^0)$$

The layout of `TinyViT` is torchvision's `VisionTransformer` (conv_proj, class_token, pos_embedding, pre-norm
encoder blocks, ln, head), so the tests load one's weights into the other. Symbols: patch size `P`, tokens `N`,
width `D`, heads `h`, head size `d_k = D/h`, MLP width `M`, layers `L`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

SIDES = (32, 64, 96, 128, 224)          # the learner's image is cropped square and resized to one of these
PATCHES = (4, 8, 16, 32)                # patch sizes P for the learner's image (each divides every side)
DIGIT_PATCHES = (4, 7, 14)              # patch sizes for the 28×28 digits (N = 49, 16, 4)
TRAIN_SIZES = (250, 500, 1000, 2000, 4000)   # training digits (balanced); the test set is 1 000 others
N_TEST = 1000
D_IMAGE = 32                            # width D of the learner's-image demo embedding
HEADS_IMAGE = 4                         # heads of its (untrained) attention layer
LN_EPS = 1e-6                           # torchvision ViT's LayerNorm ε


# ------------------------------------------------------------------------------------------------ the image
def prepare_image(rgb: np.ndarray, side: int) -> np.ndarray:
    """(H, W, 3) uint8 → (3, side, side) float32 in [0, 1]: the centred square crop, resized (antialiased bilinear).
    ViT needs H and W divisible by P; a square of a side in SIDES is divisible by every P in PATCHES."""
    import torch
    import torch.nn.functional as F

    h, w = rgb.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = np.array(rgb[top:top + s, left:left + s, :3], dtype=np.uint8)
    x = torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255                   # (1, 3, s, s)
    x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    return x[0].clamp(0, 1).numpy()                                                   # (3, side, side)


def n_tokens(h: int, w: int, p: int, cls: bool = True) -> int:
    r"""Tokens the encoder sees: $N = \frac{H}{P}\cdot\frac{W}{P}$ patches (ViT Eq. 1), plus one [CLS]."""
    # N = HW / P²
    return (h // p) * (w // p) + int(cls)


def patchify(x: np.ndarray, p: int) -> np.ndarray:
    r"""(C, H, W) → (N, C·P·P): the patches in reading order (row by row), each flattened channel first — the
    order of `torch.nn.functional.unfold` and of a Conv2d weight `(D, C, P, P)`. H and W must be divisible by P."""
    c, h, w = x.shape
    if h % p or w % p:
        raise ValueError(f"H={h} and W={w} must be divisible by P={p}")
    g = x.reshape(c, h // p, p, w // p, p)                  # (C, H/P, P, W/P, P)
    return g.transpose(1, 3, 0, 2, 4).reshape((h // p) * (w // p), c * p * p)   # (N, C·P·P)


def unpatchify(patches: np.ndarray, c: int, h: int, w: int, p: int) -> np.ndarray:
    """The inverse of `patchify`: (N, C·P·P) → (C, H, W)."""
    g = patches.reshape(h // p, w // p, c, p, p)             # (H/P, W/P, C, P, P)
    return g.transpose(2, 0, 3, 1, 4).reshape(c, h, w)


def patch_tokens(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, p: int) -> np.ndarray:
    r"""The linear patch embedding $x_p E + b$: (C, H, W) → (N, D), with $E$ given as a Conv2d weight (D, C, P, P)
    (so that this equals `conv2d(x, weight, bias, stride=P)` read row by row)."""
    d = weight.shape[0]
    # x_p E + b: E is the Conv2d weight flattened
    return patchify(x, p) @ weight.reshape(d, -1).T + bias                       # (N, D)


def encoder_input(tokens: np.ndarray, cls: np.ndarray, pos: np.ndarray) -> np.ndarray:
    r"""$z_0 = [x_\text{class}; x_p E] + E_\text{pos}$ (ViT Eq. 1): [CLS] in front, then the position embedding
    added. tokens (N, D), cls (D,), pos (N+1, D) → (N+1, D)."""
    return np.concatenate([cls[None], tokens]) + pos                              # (N+1, D)


def patch_embed_params(c: int, p: int, d: int, bias: bool = True) -> int:
    """Parameters of the patch embedding E (and b): P²·C·D + D, whatever the image size."""
    return p * p * c * d + (d if bias else 0)


@dataclass(frozen=True)
class Embedding:
    """The learner's image turned into the encoder's input z₀ (ViT Eq. 1), with an attention layer at
    initialisation applied to it (the mechanics of [CLS]'s attention; its weights are random)."""
    image: np.ndarray        # (C, H, W) in [0, 1]
    p: int                   # patch size P
    grid: tuple[int, int]    # (H/P, W/P)
    patches: np.ndarray      # (N, C·P·P) flattened patches
    weight: np.ndarray       # (D, C, P, P) E as a Conv2d weight
    bias: np.ndarray         # (D,)
    tokens: np.ndarray       # (N, D) x_p E + b
    conv_diff: float         # max |tokens − conv2d(kernel = stride = P)|
    cls: np.ndarray          # (D,) x_class
    pos: np.ndarray          # (N+1, D) E_pos
    z0: np.ndarray           # (N+1, D)
    cls_attn: np.ndarray     # (h, N) [CLS]'s attention to every patch, per head (the weight on [CLS] itself apart)
    cls_self: np.ndarray     # (h,) [CLS]'s attention to itself
    mha_diff: float          # max |cls_attn − torch.nn.MultiheadAttention's weights|


def init_weights(c: int, p: int, d: int, n: int, heads: int, seed: int) -> dict[str, np.ndarray]:
    """The demo's weights, as torchvision's `VisionTransformer` initialises them: E ~ N(0, 1/(C·P²)) (LeCun normal,
    truncated in torchvision), b = 0, x_class = 0, E_pos ~ N(0, 0.02²); attention in-projection Xavier uniform,
    biases 0 (torch.nn.MultiheadAttention's init)."""
    rng = np.random.default_rng(seed)
    fan_in = c * p * p
    a = math.sqrt(6.0 / (d + 3 * d))                         # xavier_uniform on the (3D, D) in_proj_weight
    return dict(weight=rng.normal(0.0, math.sqrt(1.0 / fan_in), (d, c, p, p)).astype(np.float32),
                bias=np.zeros(d, np.float32),
                cls=np.zeros(d, np.float32),
                pos=rng.normal(0.0, 0.02, (n + 1, d)).astype(np.float32),
                in_proj_weight=rng.uniform(-a, a, (3 * d, d)).astype(np.float32),
                in_proj_bias=np.zeros(3 * d, np.float32))


def layer_norm(z: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    r"""LayerNorm over the last axis at initialisation (γ = 1, β = 0): $(z - \mu)/\sqrt{\sigma^2 + \epsilon}$ with
    the biased variance, torchvision ViT's ε = 1e-6."""
    mu = z.mean(axis=-1, keepdims=True)
    var = z.var(axis=-1, keepdims=True)
    return (z - mu) / np.sqrt(var + eps)


def cls_attention(z: np.ndarray, in_proj_weight: np.ndarray, in_proj_bias: np.ndarray, heads: int) -> np.ndarray:
    r"""The attention weights of the [CLS] query (row 0 of `z`) over every token, per head (Vaswani et al. 2017,
    Eq. 1):

    $$a^{(j)} = \mathrm{softmax}\!\left(\frac{q_0^{(j)} K^{(j)\top}}{\sqrt{d_k}}\right),\quad
      q = z W_Q^\top + b_Q,\; K = z W_K^\top + b_K$$

    Only [CLS]'s row is computed: N + 1 scores per head instead of (N + 1)², all a classifier reads from the last
    layer. Returns (h, N+1)."""
    n1, d = z.shape
    dk = d // heads
    wq, wk = in_proj_weight[:d], in_proj_weight[d:2 * d]
    bq, bk = in_proj_bias[:d], in_proj_bias[d:2 * d]
    q0 = (z[0] @ wq.T + bq).reshape(heads, dk)               # (h, d_k)
    k = (z @ wk.T + bk).reshape(n1, heads, dk)               # (N+1, h, d_k)
    # s = q₀ Kᵀ / √d_k
    s = np.einsum("hd,nhd->hn", q0, k) / math.sqrt(dk)       # (h, N+1)
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)                  # (h, N+1)


def embed(image: np.ndarray, p: int, d: int = D_IMAGE, heads: int = HEADS_IMAGE, seed: int = 0) -> Embedding:
    """Patches → linear embedding (checked against a Conv2d with kernel = stride = P) → [CLS] and position
    embeddings → LayerNorm → the attention of [CLS] in one (untrained) attention layer, the first block of a ViT at
    initialisation (checked against torch.nn.MultiheadAttention with the same weights)."""
    import torch
    import torch.nn.functional as F

    c, h, w = image.shape
    x = image.astype(np.float32)
    patches = patchify(x, p)                                  # (N, C·P·P)
    n = len(patches)
    wts = init_weights(c, p, d, n, heads, seed)
    tokens = patch_tokens(x, wts["weight"], wts["bias"], p)              # (N, D)
    with torch.no_grad():
        conv = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(wts["weight"]), torch.from_numpy(wts["bias"]),
                        stride=p)                             # (1, D, H/P, W/P)
        conv = conv.flatten(2)[0].T.numpy()                   # (N, D)
    z0 = encoder_input(tokens, wts["cls"], wts["pos"])                  # (N+1, D)
    u = layer_norm(z0)                                        # the first block's LN(z₀) (pre-norm, ViT Eq. 2)
    attn = cls_attention(u, wts["in_proj_weight"], wts["in_proj_bias"], heads)    # (h, N+1)
    with torch.no_grad():
        mha = torch.nn.MultiheadAttention(d, heads, bias=True, batch_first=True)
        mha.in_proj_weight.copy_(torch.from_numpy(wts["in_proj_weight"]))
        mha.in_proj_bias.copy_(torch.from_numpy(wts["in_proj_bias"]))
        ut = F.layer_norm(torch.from_numpy(z0), (d,), eps=LN_EPS)[None]
        _, ref = mha(ut[:, :1], ut, ut, need_weights=True, average_attn_weights=False)   # (1, h, 1, N+1)
    return Embedding(image=x, p=p, grid=(h // p, w // p), patches=patches, weight=wts["weight"], bias=wts["bias"],
                     tokens=tokens, conv_diff=float(np.abs(tokens - conv).max()), cls=wts["cls"], pos=wts["pos"],
                     z0=z0, cls_attn=attn[:, 1:], cls_self=attn[:, 0],
                     mha_diff=float(np.abs(attn - ref[0, :, 0].numpy()).max()))


# ------------------------------------------------------------------------------------------------- the cost
@dataclass(frozen=True)
class Cost:
    """Multiply–adds of one pre-norm encoder layer on N tokens of width D with MLP width M."""
    n: int                   # tokens (patches + [CLS])
    qkv_out: int             # 4·N·D²: the Q, K, V and output projections
    scores: int              # 2·N²·D: QKᵀ and A·V (all heads together)
    mlp: int                 # 2·N·D·M
    attn_memory: int         # h·N² attention weights held per image and layer

    @property
    def total(self) -> int:
        return self.qkv_out + self.scores + self.mlp


def layer_cost(n: int, d: int, m: int, heads: int) -> Cost:
    r"""Multiply–adds of one encoder layer: projections $4ND^2$, attention $2N^2D$ (scores $QK^\top$: $N^2 d_k$ per
    head, times $h$ heads = $N^2D$; the same again for $AV$), MLP $2NDM$. The $N^2$ term wins once $N > 2D$ (with
    $M = 4D$: once $N > 6D$)."""
    return Cost(n=n, qkv_out=4 * n * d * d, scores=2 * n * n * d, mlp=2 * n * d * m, attn_memory=heads * n * n)


def cost_curve(sides: np.ndarray, p: int, d: int, m: int, heads: int) -> list[Cost]:
    """`layer_cost` of a square image of each side (cut to a multiple of P) with patch size P."""
    return [layer_cost(n_tokens(int(s), int(s), p), d, m, heads) for s in sides]


# ---------------------------------------------------------------------------------------------- the models
def _torch():
    import torch
    return torch


def build_vit(image_size: int = 28, p: int = 7, channels: int = 1, d: int = 32, depth: int = 2, heads: int = 4,
              m: int = 64, classes: int = 10, seed: int = 0):
    """A `TinyViT` (torch.nn.Module) with torchvision's initialisation, seeded by a local generator."""
    torch = _torch()
    nn = torch.nn
    from engine.common.attention import multi_head_attention

    class Attention(nn.Module):
        """Multi-head self-attention written out (Vaswani et al. 2017, Eq. 1 and the MultiHead formula; shared with
        the Transformer chapter in engine/common/attention.py), with torch.nn.MultiheadAttention's parameter layout
        (in_proj_weight (3D, D), out_proj)."""

        def __init__(self) -> None:
            super().__init__()
            self.heads = heads
            self.in_proj_weight = nn.Parameter(torch.empty(3 * d, d))
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * d))
            self.out_proj = nn.Linear(d, d)

        def forward(self, x):                                 # x (B, T, D)
            # softmax(Q Kᵀ / √d_k) V per head, concatenated, · W^O; the weights (B, h, T, T) returned
            return multi_head_attention(x, x, x, self.heads, self.in_proj_weight, self.in_proj_bias,
                                        self.out_proj.weight, self.out_proj.bias)

    class Block(nn.Module):
        """Pre-norm encoder block (ViT Eq. 2–3), torchvision's EncoderBlock names."""

        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(d, eps=1e-6)
            self.self_attention = Attention()
            self.ln_2 = nn.LayerNorm(d, eps=1e-6)
            self.mlp = nn.Sequential(nn.Linear(d, m), nn.GELU(), nn.Linear(m, d))

        def forward(self, x):
            y, a = self.self_attention(self.ln_1(x))
            x = x + y                                         # z'_ℓ = MSA(LN(z_{ℓ−1})) + z_{ℓ−1}
            return x + self.mlp(self.ln_2(x)), a              # z_ℓ = MLP(LN(z'_ℓ)) + z'_ℓ

    class TinyViT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.p = p
            n = (image_size // p) ** 2
            self.conv_proj = nn.Conv2d(channels, d, kernel_size=p, stride=p)   # E: kernel = stride = P
            self.class_token = nn.Parameter(torch.zeros(1, 1, d))
            self.pos_embedding = nn.Parameter(torch.empty(1, n + 1, d))
            self.layers = nn.ModuleList([Block() for _ in range(depth)])
            self.ln = nn.LayerNorm(d, eps=1e-6)
            self.head = nn.Linear(d, classes)

        def tokens(self, x):                                  # x (B, C, H, W)
            z = self.conv_proj(x).flatten(2).transpose(1, 2)  # (B, N, D) = x_p E
            cls = self.class_token.expand(len(x), -1, -1)     # (B, 1, D)
            return torch.cat([cls, z], dim=1) + self.pos_embedding   # z₀ (B, N+1, D)

        def forward(self, x, return_attention: bool = False):
            z = self.tokens(x)
            attn = []
            for layer in self.layers:
                z, a = layer(z)
                attn.append(a)
            logits = self.head(self.ln(z[:, 0]))              # y = LN(z_L⁰) → classes
            return (logits, attn) if return_attention else logits

    g = torch.Generator().manual_seed(seed)
    model = TinyViT()
    with torch.no_grad():                                     # torchvision's VisionTransformer init
        fan_in = channels * p * p
        model.conv_proj.weight.copy_(torch.nn.init.trunc_normal_(torch.empty_like(model.conv_proj.weight),
                                                                 std=math.sqrt(1 / fan_in), generator=g))
        model.conv_proj.bias.zero_()
        model.pos_embedding.normal_(0.0, 0.02, generator=g)
        for layer in model.layers:
            torch.nn.init.xavier_uniform_(layer.self_attention.in_proj_weight, generator=g)
            bound = 1 / math.sqrt(d)
            layer.self_attention.out_proj.weight.uniform_(-bound, bound, generator=g)
            layer.self_attention.out_proj.bias.zero_()
            for lin in (layer.mlp[0], layer.mlp[2]):
                torch.nn.init.xavier_uniform_(lin.weight, generator=g)
                lin.bias.normal_(0.0, 1e-6, generator=g)
        model.head.weight.zero_()                             # torchvision zeroes the head
        model.head.bias.zero_()
    return model


def build_cnn(c: int, image_size: int = 28, channels: int = 1, classes: int = 10, seed: int = 0):
    """conv3×3/2(C→c) ReLU → conv3×3/2(c→2c) ReLU → linear: a small CNN of width c (stride 2 instead of pooling:
    the same parameters as conv + max-pool, a quarter of the multiply–adds)."""
    torch = _torch()
    nn = torch.nn
    g = torch.Generator().manual_seed(seed)
    side = image_size // 4
    model = nn.Sequential(nn.Conv2d(channels, c, 3, stride=2, padding=1), nn.ReLU(),
                          nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.ReLU(),
                          nn.Flatten(), nn.Linear(2 * c * side * side, classes))
    with torch.no_grad():                                     # He-uniform as torch's default, but seeded locally
        for mod in model:
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                bound = 1 / math.sqrt(fan_in)
                mod.weight.uniform_(-bound * math.sqrt(3), bound * math.sqrt(3), generator=g)
                mod.bias.uniform_(-bound, bound, generator=g)
    return model


def vit_params(image_size: int, p: int, channels: int, d: int, depth: int, m: int, classes: int = 10) -> int:
    """Parameters of `build_vit` counted by formula: E and b, [CLS], E_pos, per layer two LayerNorms,
    in-projection, out-projection and the MLP, the final LayerNorm and the head."""
    n = (image_size // p) ** 2
    per_layer = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * m + m) + (m * d + d)
    return (channels * p * p * d + d) + d + (n + 1) * d + depth * per_layer + 2 * d + (d * classes + classes)


def cnn_params(c: int, image_size: int = 28, channels: int = 1, classes: int = 10) -> int:
    """Parameters of `build_cnn`: 9·C·c + c, 9·c·2c + 2c, 2c·(side/4)²·classes + classes."""
    side = image_size // 4
    return (9 * channels * c + c) + (18 * c * c + 2 * c) + (2 * c * side * side * classes + classes)


def matching_cnn_width(target: int, image_size: int = 28, channels: int = 1) -> int:
    """The width c whose CNN's parameter count is closest to `target` (the ViT's)."""
    return min(range(1, 257), key=lambda c: (abs(cnn_params(c, image_size, channels) - target), c))


# ------------------------------------------------------------------------------------------------- the data
def digits_split(n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Real MNIST digits (engine/common/digits.py, 5 000, 28×28, [0, 1]): a test set of 100 per class chosen by
    `seed`, and a balanced training set of `n_train` (n_train/10 per class) from the other 4 000."""
    from engine.common import digits
    x, y = digits.mnist_5k_float()                            # (5000, 1, 28, 28), (5000,)
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.choice(np.flatnonzero(y == c), N_TEST // 10, replace=False) for c in range(10)])
    rest = np.setdiff1d(np.arange(len(y)), test)
    per = n_train // 10
    train = np.concatenate([rng.choice(rest[y[rest] == c], per, replace=False) for c in range(10)])
    return x[train], y[train], x[test], y[test]


# --------------------------------------------------------------------------------------------- the training
@dataclass(frozen=True)
class DigitsConfig:
    n_train: int = 4000        # training digits (TRAIN_SIZES)
    p: int = 7                 # the ViT's patch size on 28×28 digits (DIGIT_PATCHES)
    d: int = 32                # ViT width D
    depth: int = 2             # encoder layers L
    heads: int = 4             # h (d_k = D/h)
    m: int = 64                # MLP width
    lr: float = 2e-3           # Adam's η, the same for both models
    batch: int = 64
    steps: int = 2000          # updates in all (≈ 32 epochs of 4 000 digits)
    every: int = 20            # updates between two snapshots (one pull ≲ 0.3 s on one core)
    seed: int = 0
    n_show: int = 4            # test digits whose [CLS] attention is recorded


TARGET_ACC = 0.90              # the ViT's target on the 1 000 test digits with 4 000 training digits (page + bench)


@dataclass(frozen=True)
class DigitsSnapshot:
    step: int
    model: str                         # "vit" or "cnn"
    params: int                        # trainable parameters
    steps: np.ndarray                  # (S,) update counts of the recorded points
    train_loss: np.ndarray             # (S,) mean minibatch loss since the previous point (step 0: the first batch)
    train_acc: np.ndarray              # (S,) accuracy on those minibatches
    test_acc: np.ndarray               # (S,) accuracy on the 1 000 test digits
    shown: np.ndarray                  # (K, 28, 28) the test digits whose attention is drawn
    shown_pred: np.ndarray             # (K,) predicted classes
    cls_attn: np.ndarray | None        # ViT: (K, n, n) last layer's [CLS] attention to the patches, heads averaged
    pos_sim: np.ndarray | None         # ViT: (N, N) cosine similarity of the patches' position embeddings
    metrics: dict = field(default_factory=dict)    # {"loss", "acc", "train_acc"}
    seconds: float = 0.0


def train_digits(cfg: DigitsConfig, model_name: str) -> Iterator[DigitsSnapshot]:
    """Adam on minibatches of the training digits (the same batches for both models), a snapshot every
    `cfg.every` updates with the loss, the accuracies and (ViT) the [CLS] attention and position similarity."""
    torch = _torch()
    F = torch.nn.functional
    from engine.common import optim
    x_tr, y_tr, x_te, y_te = digits_split(cfg.n_train, cfg.seed)
    xt_tr, yt_tr = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    xt_te, yt_te = torch.from_numpy(x_te), torch.from_numpy(y_te)
    show = np.arange(cfg.n_show) * (N_TEST // cfg.n_show)    # spread over the classes (test set is class-sorted)
    vit = build_vit(28, cfg.p, 1, cfg.d, cfg.depth, cfg.heads, cfg.m, seed=cfg.seed)
    if model_name == "vit":
        model = vit
    else:
        model = build_cnn(matching_cnn_width(vit_params(28, cfg.p, 1, cfg.d, cfg.depth, cfg.m)), seed=cfg.seed)
    n_params = sum(p.numel() for p in model.parameters())
    opt = optim.Adam(model.parameters(), lr=cfg.lr)            # = torch.optim.Adam, without importing torch._dynamo
    rng = np.random.default_rng(cfg.seed + 1)
    S = cfg.steps // cfg.every + 2
    steps, losses = np.zeros(S, np.int64), np.zeros(S)
    tr_acc, te_acc = np.zeros(S), np.zeros(S)
    n_pts, done = 0, 0
    spent, t0 = 0.0, time.perf_counter()        # this model's own compute (not the time the other model ran)

    def evaluate():
        model.eval()
        with torch.no_grad():
            if model_name == "vit":
                logits, attn = model(xt_te, return_attention=True)
                a = attn[-1][show, :, 0, 1:].mean(dim=1)      # (K, N) [CLS] row of the last layer, heads averaged
                n = int(round(math.sqrt(a.shape[1])))
                cls_attn = a.reshape(-1, n, n).numpy().copy()
                pe = F.normalize(model.pos_embedding[0, 1:], dim=1)   # (N, D)
                pos_sim = (pe @ pe.T).numpy().copy()          # (N, N) cosine similarity
            else:
                logits = model(xt_te)
                cls_attn = pos_sim = None
        model.train()
        pred = logits.argmax(1)
        return float((pred == yt_te).float().mean()), pred[show].numpy().copy(), cls_attn, pos_sim

    def snapshot(acc, pred, cls_attn, pos_sim) -> DigitsSnapshot:
        views = [steps[:n_pts].copy(), losses[:n_pts].copy(), tr_acc[:n_pts].copy(), te_acc[:n_pts].copy()]
        for v in views + [a for a in (cls_attn, pos_sim, pred) if a is not None]:
            v.flags.writeable = False
        return DigitsSnapshot(done, model_name, n_params, *views, shown=x_te[show, 0], shown_pred=pred,
                              cls_attn=cls_attn, pos_sim=pos_sim,
                              metrics={"loss": float(losses[n_pts - 1]), "acc": acc,
                                       "train_acc": float(tr_acc[n_pts - 1])},
                              seconds=spent + time.perf_counter() - t0)

    order, pos = rng.permutation(len(y_tr)), 0

    def batch():
        nonlocal order, pos
        if pos + cfg.batch > len(order):
            order, pos = rng.permutation(len(y_tr)), 0
        idx = order[pos:pos + min(cfg.batch, len(order))]
        pos += cfg.batch
        return xt_tr[idx], yt_tr[idx]

    # step 0: the untrained model on the first minibatch
    xb, yb = batch()
    pos = 0
    with torch.no_grad():
        out = model(xb)
        losses[0] = float(F.cross_entropy(out, yb))
        tr_acc[0] = float((out.argmax(1) == yb).float().mean())
    acc, pred, ca, ps = evaluate()
    te_acc[0] = acc
    n_pts = 1
    snap = snapshot(acc, pred, ca, ps)
    spent = snap.seconds
    yield snap
    t0 = time.perf_counter()
    while done < cfg.steps:
        stop = min(cfg.steps, done + cfg.every)
        loss_sum, hit, seen = 0.0, 0, 0
        for _ in range(done, stop):
            xb, yb = batch()
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(yb)
            hit += int((out.argmax(1) == yb).sum())
            seen += len(yb)
        acc, pred, ca, ps = evaluate()
        steps[n_pts], losses[n_pts], tr_acc[n_pts], te_acc[n_pts] = stop, loss_sum / seen, hit / seen, acc
        n_pts += 1
        done = stop
        snap = snapshot(acc, pred, ca, ps)
        spent = snap.seconds
        yield snap
        t0 = time.perf_counter()


def race(cfg: DigitsConfig) -> dict[str, Iterator[DigitsSnapshot]]:
    """The page's two models: {"vit": …, "cnn": …} trained on the same digits and batches."""
    return {"vit": train_digits(cfg, "vit"), "cnn": train_digits(cfg, "cnn")}
