r"""GPT (decoder-only Transformer) at character level: autoregression, the causal mask, sampling, in-context
learning on synthetic prompts, and a scaling-law fit.

The autoregressive factorisation every GPT is trained on (Radford et al. 2018, Eq. 1; Brown et al. 2020):

$$ p(x_1, \dots, x_T) = \prod_{t=1}^{T} p(x_t \mid x_{<t}), \qquad
   \mathcal{L} = -\sum_t \log p_\theta(x_t \mid x_{<t}) $$

Causal self-attention (Vaswani et al. 2017, Eq. 1, with the decoder's mask):

$$ \mathrm{Attn}(Q, K, V) = \mathrm{softmax}\!\Big(\frac{QK^\top}{\sqrt{d_k}} + M\Big)V,\qquad
   M_{ts} = \begin{cases} 0 & s \le t \\ -\infty & s > t \end{cases} $$

Scaling law in parameters (Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Eq. 1.1):

$$ L(N) = (N_c / N)^{\alpha_N},\qquad \alpha_N \approx 0.076,\quad N_c \approx 8.8\times10^{13} $$

(N = non-embedding parameters, L in nats per token.) The model code follows nanoGPT's shapes (Karpathy,
github.com/karpathy/nanoGPT, model.py): B batch, T time, C = n_embd channels, nh heads, hs = C / nh.

References
----------
Radford, Narasimhan, Salimans, Sutskever, "Improving Language Understanding by Generative Pre-Training", 2018.
Brown et al., "Language Models are Few-Shot Learners", NeurIPS 2020 (Table 2.1: GPT-3 sizes).
Kaplan et al., "Scaling Laws for Neural Language Models", arXiv:2001.08361, 2020 (Eq. 1.1, Table 5).
Holtzman et al., "The Curious Case of Neural Text Degeneration", ICLR 2020 (top-p, Sec. 3.1).
Olsson et al., "In-context Learning and Induction Heads", Transformer Circuits Thread, 2022.
Xie, Raghunathan, Liang, Ma, "An Explanation of In-context Learning as Implicit Bayesian Inference", ICLR 2022.
"""
from __future__ import annotations

import math
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "gpt3"
WEIGHTS = {"en": ASSETS / "char_gpt_en.pt", "ja": ASSETS / "char_gpt_ja.pt"}
SCALING_JSON = ASSETS / "scaling.json"
UNK = "\ufffd"               # shown for a character the model's vocabulary does not have
MAX_PROMPT = 2000            # characters of prompt kept (the model sees only its last block_size)
MAX_NEW = 200                # tokens generated at most per request
DEFAULT_PROMPTS = {"en": "The for statement is used to iterate over the elements of a sequence",
                   "ja": "学習を始めると、"}     # the models' corpora: pydoc topics / the app's Japanese strings

# Kaplan et al. 2020, Eq. 1.1 / Table 5 (N = non-embedding parameters, loss in nats/token)
KAPLAN_ALPHA_N = 0.076
KAPLAN_N_C = 8.8e13
# Brown et al. 2020, Table 2.1 (GPT-3 175B): n_params, n_layers, d_model, n_heads, context, tokens trained
GPT3 = dict(n_params=175e9, n_layer=96, d_model=12288, n_head=96, n_ctx=2048, tokens=300e9)


# ------------------------------------------------------------------------------------------------ model

@dataclass(frozen=True)
class GPTConfig:
    """nanoGPT's GPTConfig, small."""
    vocab_size: int = 128
    block_size: int = 128          # T_max, the context length
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128              # C
    dropout: float = 0.0


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention written out (so the attention weights can be read)."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)    # W_Q, W_K, W_V stacked
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)        # W_O
        self.n_head = cfg.n_head

    def forward(self, x: torch.Tensor, need_weights: bool = False):
        B, T, C = x.shape                                                    # (B, T, C)
        nh = self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)                             # 3 × (B, T, C)
        q = q.view(B, T, nh, C // nh).transpose(1, 2)                        # (B, nh, T, hs)
        k = k.view(B, T, nh, C // nh).transpose(1, 2)                        # (B, nh, T, hs)
        v = v.view(B, T, nh, C // nh).transpose(1, 2)                        # (B, nh, T, hs)
        # softmax(Q K^T / sqrt(d_k) + M) V, M_ts = -inf for s > t
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))              # (B, nh, T, T)
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()    # (T, T) lower triangle
        att = att.masked_fill(~mask, float("-inf"))
        att = F.softmax(att, dim=-1)                                         # (B, nh, T, T) rows sum to 1
        y = att @ v                                                          # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)                     # (B, T, C) heads concatenated
        return self.c_proj(y), (att if need_weights else None)


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))                             # (B, T, C)


class Block(nn.Module):
    """Pre-LN Transformer decoder block (GPT-2 / GPT-3): x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x, need_weights: bool = False):
        a, w = self.attn(self.ln_1(x), need_weights)
        x = x + a                                                            # (B, T, C)
        x = x + self.mlp(self.ln_2(x))                                       # (B, T, C)
        return x, w


class GPT(nn.Module):
    """Token + learned position embeddings, n_layer decoder blocks, final LayerNorm, tied output head."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)                 # (V, C)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)                 # (T_max, C)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight                                # weight tying (GPT-2)

    def forward(self, idx: torch.Tensor, need_weights: bool = False):
        """idx (B, T) int64 → logits (B, T, V) [, attention weights per layer (B, nh, T, T)]."""
        B, T = idx.shape
        assert T <= self.cfg.block_size, "sequence longer than the context"
        pos = torch.arange(T, device=idx.device)                             # (T,)
        x = self.wte(idx) + self.wpe(pos)                                    # (B, T, C)
        atts = []
        for blk in self.h:
            x, w = blk(x, need_weights)
            atts.append(w)
        logits = self.lm_head(self.ln_f(x))                                  # (B, T, V)
        return (logits, atts) if need_weights else logits


def init_gpt(cfg: GPTConfig, seed: int) -> GPT:
    """A GPT with GPT-2's initialisation N(0, 0.02²), residual projections scaled by 1/sqrt(2 n_layer), seeded by a
    local generator (no global seed)."""
    model = GPT(cfg)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif "ln" in name:
                p.fill_(1.0)
            else:
                std = 0.02 / math.sqrt(2 * cfg.n_layer) if name.endswith("c_proj.weight") else 0.02
                p.copy_(torch.randn(p.shape, generator=g) * std)
    return model


def non_embedding_params(model_or_cfg) -> int:
    """Kaplan's N: every parameter except the token and position embeddings (the tied head is the token table).
    For a config it is 12 n_layer d² + the small biases/LayerNorms (Kaplan Table 1 counts 12 n_layer d²)."""
    model = model_or_cfg if isinstance(model_or_cfg, nn.Module) else GPT(model_or_cfg)
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith(("wte", "wpe")))


def sdpa_attention(attn: CausalSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """The same layer through `F.scaled_dot_product_attention(is_causal=True)` (PyTorch's fused kernel)."""
    B, T, C = x.shape
    nh = attn.n_head
    q, k, v = attn.c_attn(x).split(C, dim=2)
    q, k, v = (z.view(B, T, nh, C // nh).transpose(1, 2) for z in (q, k, v))   # (B, nh, T, hs)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)                 # (B, nh, T, hs)
    return attn.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))           # (B, T, C)


# ------------------------------------------------------------------------------------------------ vocabulary

@dataclass(frozen=True)
class Vocab:
    """Characters ↔ ids. Id 0 is the unknown character (shown as �)."""
    chars: str                                   # chars[i] is token i; chars[0] == UNK

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        table = {c: i for i, c in enumerate(self.chars)}
        return [table.get(c, 0) for c in text]

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def build_vocab(text: str, min_count: int = 1) -> Vocab:
    """Every character of the corpus seen at least `min_count` times, sorted, after the unknown character."""
    from collections import Counter
    counts = Counter(text)
    return Vocab(UNK + "".join(sorted(c for c, n in counts.items() if n >= min_count and c != UNK)))


def english_corpus() -> str:
    """Python's own documentation topics (engine/common/corpora.py)."""
    from engine.common import corpora
    return corpora.english_text()


def japanese_corpus(root: Path | None = None) -> str:
    """The app's own Japanese text, every `[ja]` string of locales/*.toml (engine/common/corpora.py)."""
    from engine.common import corpora
    return corpora.japanese_text(root)


# ------------------------------------------------------------------------------------------------ weights

def save_model(model: GPT, vocab: Vocab, path: Path, meta: dict | None = None) -> None:
    """fp16 state dict + config + vocabulary in one torch file (loaded with weights_only=True)."""
    sd = {k: v.detach().to(torch.float16).clone() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    torch.save({"config": dict(model.cfg.__dict__), "chars": vocab.chars, "state_dict": sd, "meta": meta or {}},
               path)


@dataclass(frozen=True)
class Pretrained:
    model: GPT              # eval mode, float32
    vocab: Vocab
    meta: dict = field(default_factory=dict)


def load_pretrained(lang: str = "en") -> Pretrained:
    """The shipped character GPT for `lang` ("en": pydoc topics; "ja": the app's Japanese text)."""
    path = WEIGHTS[lang]
    if not path.exists():
        raise FileNotFoundError(f"{path.name} missing: run python -m scripts.gpt3.pretrain")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    cfg = GPTConfig(**blob["config"])
    model = GPT(cfg)
    sd = {k: v.float() for k, v in blob["state_dict"].items()}
    sd["lm_head.weight"] = sd["wte.weight"]
    model.load_state_dict(sd)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return Pretrained(model, Vocab(blob["chars"]), blob.get("meta", {}))


# ------------------------------------------------------------------------------------------------ prompts

@dataclass(frozen=True)
class PromptCheck:
    text: str                 # what the model will read (possibly cut)
    truncated: bool           # the prompt was longer than MAX_PROMPT characters and its start was cut
    unknown: tuple[str, ...]  # distinct characters the vocabulary lacks (read as �)
    unknown_share: float      # share of the prompt's characters that are unknown


def check_prompt(text: str, vocab: Vocab, max_chars: int = MAX_PROMPT) -> PromptCheck:
    """Normalise (NFC, \r\n → \n) and bound the reader's prompt; empty → ValueError with a reason."""
    if text is None or not text.strip():
        raise ValueError("empty prompt")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    truncated = len(text) > max_chars
    if truncated:
        text = text[-max_chars:]
    known = set(vocab.chars[1:])
    unk = [c for c in text if c not in known]
    return PromptCheck(text, truncated, tuple(dict.fromkeys(unk))[:20], len(unk) / len(text))


# ------------------------------------------------------------------------------------------------ sampling

def truncated_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                    top_p: float = 1.0) -> torch.Tensor:
    r"""The distribution a token is drawn from: softmax of logits / T, kept to the k most likely tokens (top-k), then
    to the smallest set whose probability reaches p (top-p, nucleus; Holtzman et al. 2020, Eq. 2), renormalised.

    $$ p_i = \frac{\exp(z_i / T)\,[i \in S]}{\sum_{j \in S} \exp(z_j / T)} $$

    `top_k = 0` and `top_p = 1` switch the cuts off; temperature 0 is greedy (all mass on the arg-max).
    Ties and limits, as transformers' TopKLogitsWarper / TopPLogitsWarper: top-k keeps every token whose logit
    equals the k-th largest (so more than k when the k-th is tied); top-p always keeps the most likely token, so
    p → 0 is greedy rather than an empty set (ties in the nucleus's order are broken by the lower token index).
    logits (V,) → probs (V,) float64 summing to 1.
    """
    z = logits.detach().double()                                           # (V,)
    if temperature <= 0:
        out = torch.zeros_like(z)
        out[int(torch.argmax(z))] = 1.0
        return out
    s = z / temperature                                                    # (V,) the warped logits
    p = torch.softmax(s, dim=-1)                                           # (V,) p_i ∝ exp(z_i / T)
    keep = torch.ones_like(p, dtype=torch.bool)
    order = torch.argsort(s, descending=True, stable=True)                 # (V,) most likely first
    if top_k and top_k < p.numel():
        keep &= s >= s[order[top_k - 1]]                                   # the k largest, ties with the k-th kept
    if top_p < 1.0:
        ps = p[order] * keep[order]
        before = torch.cumsum(ps, 0) - ps                                  # mass of the tokens ranked above
        cut = before >= top_p * ps.sum()                                   # the nucleus: smallest set reaching p
        cut[0] = False                                                     # the most likely token always stays
        keep[order[cut]] = False
    q = torch.where(keep, p, torch.zeros_like(p))
    return q / q.sum()


@dataclass(frozen=True)
class GenStep:
    """One generated token."""
    position: int                    # index of the token in the whole text
    candidates: tuple[str, ...]      # the top characters by model probability (display)
    p_model: tuple[float, ...]       # their probability at temperature 1 (the model's own)
    p_sample: tuple[float, ...]      # their probability after temperature / top-k / top-p
    kept: int                        # how many tokens survive the cut
    token: str                       # the token drawn (or forced)
    forced: bool                     # the reader chose it
    logp: float                      # log p_model(token | prefix) (natural log, temperature 1)
    cum_logp: float                  # running sum of logp over the generated tokens
    entropy: float                   # entropy (nats) of the model's distribution


@dataclass(frozen=True)
class Generation:
    prompt: str
    steps: tuple[GenStep, ...]
    text: str                        # prompt + generated
    ms_per_token: float


def generate(pre: Pretrained, prompt: str, n_new: int = 60, temperature: float = 1.0, top_k: int = 0,
             top_p: float = 1.0, seed: int = 0, forced: dict[int, str] | None = None,
             n_show: int = 10) -> Generation:
    """Continue `prompt` one character at a time. `forced` = {generated step index: character} replaces the draw at
    that step (the rest re-generates from it). The random stream comes from a local generator seeded by `seed`;
    one uniform is drawn per step, so a forced token changes nothing before it."""
    model, vocab = pre.model, pre.vocab
    forced = forced or {}
    n_new = max(0, min(int(n_new), MAX_NEW))
    ids = vocab.encode(prompt)
    if not ids:
        raise ValueError("empty prompt")
    g = torch.Generator().manual_seed(int(seed))
    T = model.cfg.block_size
    steps, cum = [], 0.0
    t0 = time.perf_counter()
    with torch.inference_mode():
        for s in range(n_new):
            ctx = torch.tensor(ids[-T:], dtype=torch.long)[None]           # (1, ≤T)
            logits = model(ctx)[0, -1]                                     # (V,)
            logits[0] = float("-inf")                                      # never emit the unknown symbol
            p_model = torch.softmax(logits.double(), -1)                   # (V,)
            q = truncated_probs(logits, temperature, top_k, top_p)         # (V,)
            u = torch.rand((), generator=g, dtype=torch.float64)
            if s in forced and forced[s] in vocab.chars[1:]:
                tok, was_forced = vocab.chars.index(forced[s]), True
            else:
                tok = int(torch.searchsorted(torch.cumsum(q, 0), u).clamp(max=q.numel() - 1))  # inverse CDF
                was_forced = False
            lp = float(torch.log(p_model[tok]))
            cum += lp                                                      # log p(x_{1..t}) = Σ log p(x_t | x_<t)
            top = torch.argsort(p_model, descending=True)[:n_show]
            pm = p_model[p_model > 0]
            steps.append(GenStep(len(ids), tuple(vocab.chars[i] for i in top.tolist()),
                                 tuple(round(float(p_model[i]), 5) for i in top),
                                 tuple(round(float(q[i]), 5) for i in top), int((q > 0).sum()),
                                 vocab.chars[tok], was_forced, lp, cum, float(-(pm * pm.log()).sum())))
            ids.append(tok)
    dt = (time.perf_counter() - t0) / max(n_new, 1)
    return Generation(prompt, tuple(steps), vocab.decode(ids), 1000 * dt)


def sample_from(q: torch.Tensor, n: int, seed: int) -> np.ndarray:
    """n draws from a distribution q (V,) by the inverse CDF that `generate` uses (seeded local generator)."""
    g = torch.Generator().manual_seed(int(seed))
    u = torch.rand(n, generator=g, dtype=torch.float64)
    return torch.searchsorted(torch.cumsum(q, 0), u).clamp(max=q.numel() - 1).numpy()


# ------------------------------------------------------------------------------------------------ causal mask

@dataclass(frozen=True)
class CausalDemo:
    tokens: tuple[str, ...]          # the text's characters (T,)
    attention: np.ndarray            # (T, T) one head's attention, rows = query t, cols = key s
    layer: int
    head: int
    changed_at: int                  # position whose token was replaced
    new_token: str
    max_diff_before: float           # max |Δ logits| at positions < changed_at (exactly 0 with a causal mask)
    max_diff_after: float            # max |Δ logits| at positions ≥ changed_at
    diff_per_position: np.ndarray    # (T,) max |Δ logits| at each position
    upper_mass: float                # total attention weight above the diagonal (0)


def causal_demo(pre: Pretrained, text: str, layer: int, head: int, change_at: int, new_token: str) -> CausalDemo:
    """Attention of one head on `text`, and the logits again after replacing the token at `change_at`."""
    model, vocab = pre.model, pre.vocab
    ids = vocab.encode(text)[-model.cfg.block_size:]
    if len(ids) < 2:
        raise ValueError("need at least two characters")
    change_at = int(np.clip(change_at, 0, len(ids) - 1))
    ids2 = list(ids)
    ids2[change_at] = vocab.encode(new_token)[0] if new_token else 0
    with torch.inference_mode():
        a = torch.tensor([ids, ids2])                                      # (2, T)
        logits, atts = model(a, need_weights=True)                         # (2, T, V), L × (2, nh, T, T)
    d = (logits[0] - logits[1]).abs().amax(-1).numpy()                    # (T,)
    att = atts[layer][0, head].numpy()                                     # (T, T)
    return CausalDemo(tuple(vocab.decode(ids)), att, layer, head, change_at, vocab.chars[ids2[change_at]],
                      float(d[:change_at].max()) if change_at > 0 else 0.0, float(d[change_at:].max()), d,
                      float(np.triu(att, 1).sum()))


# ------------------------------------------------------------------------------------------------ pretraining

def batches(data: torch.Tensor, block_size: int, batch_size: int, g: torch.Generator):
    """Endless random windows (x, y) of the token stream, y = x shifted by one: (B, T) each."""
    while True:
        ix = torch.randint(len(data) - block_size - 1, (batch_size,), generator=g)
        x = torch.stack([data[i:i + block_size] for i in ix])             # (B, T)
        y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])     # (B, T) next characters
        yield x, y


@dataclass(frozen=True)
class LMSnapshot:
    step: int
    metrics: dict
    seconds: float = 0.0


def train_lm(cfg: GPTConfig, data: torch.Tensor, val: torch.Tensor, *, steps: int, batch_size: int, lr: float,
             seed: int, model: GPT, every: int = 25) -> Iterator[LMSnapshot]:
    """Train `model` in place with AdamW on the next-character loss (cosine-decayed lr after a short warm-up, floor
    at lr/10). Yields a snapshot (smoothed train loss, validation loss on 32 fixed windows) every `every` steps."""
    model.train()
    g = torch.Generator().manual_seed(seed)
    from engine.common.optim import AdamW
    opt = AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    it = batches(data, cfg.block_size, batch_size, g)
    gv = torch.Generator().manual_seed(seed + 1)
    vx, vy = next(batches(val, cfg.block_size, 32, gv))                   # (32, T) fixed validation windows
    warm = max(1, steps // 20)
    t0, ema = time.perf_counter(), None
    for step in range(1, steps + 1):
        lr_t = lr * min(1.0, step / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / steps)))
        lr_t = max(lr_t, lr * 0.1) if step > warm else lr_t
        opt.lr = lr_t
        x, y = next(it)
        logits = model(x)                                                  # (B, T, V)
        # L = -(1/BT) Σ log p(x_{t+1} | x_{≤t})
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        lv_ = loss.item()
        ema = lv_ if ema is None else 0.9 * ema + 0.1 * lv_
        if step % every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                lv = model(vx)
                vloss = float(F.cross_entropy(lv.reshape(-1, lv.size(-1)), vy.reshape(-1)))
            model.train()
            yield LMSnapshot(step, {"train_loss": ema, "val_loss": vloss}, time.perf_counter() - t0)
    model.eval()


# ------------------------------------------------------------------------------------------------ in-context learning

@dataclass(frozen=True)
class ICLConfig:
    r"""Few-shot in GPT-3's sense on synthetic prompts `k1 v1 k2 v2 … k_s v_s q`: each prompt's key → value map is
    one task of a fixed family of $T = mV$ maps, drawn anew for every prompt; only the examples tell which task is
    meant. The question's key q is one of the examples' keys with probability `p_seen` (its value can be copied) and
    a key not shown otherwise (the examples must identify the task). The family is balanced: every key takes every
    value in exactly m maps, so with no example the best possible answer is chance, 1/V; one example leaves m
    candidate maps, each further example rules more out (Xie et al. 2022: in-context learning as inferring a latent
    task)."""
    n_keys: int = 6                  # keys are the letters A, B, …
    n_values: int = 6                # values are the digits 0, 1, … (chance = 1 / n_values)
    n_variants: int = 2              # m: maps per (key, value) pair; the family has T = m · n_values maps
    p_seen: float = 0.5              # probability that the question's key is among the examples
    family_seed: int = 0             # the family is fixed (part of the world the model is trained in)
    n_pairs: int = 10                # pairs per training sequence; every value in it is a question
    max_shots: int = 5               # evaluated from 0 to max_shots examples (≤ n_keys − 1: a new key must remain)
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    batch_size: int = 32
    lr: float = 3e-3
    steps_per_snapshot: int = 20
    eval_prompts: int = 256          # test prompts per number of shots
    max_steps: int = 4000
    seed: int = 0

    def __post_init__(self):
        if not 0 <= self.max_shots < self.n_keys:
            raise ValueError("max_shots must leave a key that is not among the examples")
        if self.n_values > 36:
            raise ValueError("at most 36 values (digits and letters)")

    @property
    def n_tasks(self) -> int:
        return self.n_variants * self.n_values

    @property
    def vocab(self) -> str:
        return "".join(chr(ord("A") + i) for i in range(self.n_keys)) + "".join(
            "0123456789abcdefghijklmnopqrstuvwxyz"[i] for i in range(self.n_values))

    @property
    def gpt(self) -> GPTConfig:
        return GPTConfig(vocab_size=self.n_keys + self.n_values, block_size=2 * max(self.n_pairs, self.max_shots) + 1,
                         n_layer=self.n_layer, n_head=self.n_head, n_embd=self.n_embd)


def icl_family(cfg: ICLConfig) -> torch.Tensor:
    r"""The family of T = m·V maps as a table $F$ (T, K): $F_{tk} = \sigma_k(t) \bmod V$ with $\sigma_k$ a random
    permutation of $0 … T-1$ per key, so every column holds every value exactly m times (balanced)."""
    g = torch.Generator().manual_seed(cfg.family_seed)
    cols = [torch.randperm(cfg.n_tasks, generator=g) % cfg.n_values for _ in range(cfg.n_keys)]
    return torch.stack(cols, 1)                                                       # (T, K) value indices


def icl_batch(cfg: ICLConfig, batch: int, g: torch.Generator, family: torch.Tensor):
    """Training sequences `k v k v …` (B, 2·n_pairs), one task of the family per sequence; each key is, with
    probability p_seen, one shown earlier in the sequence, else a new one. `target` (B, 2·n_pairs): the value after
    every key (predicted at the key's position), -100 elsewhere (no loss)."""
    K, P = cfg.n_keys, cfg.n_pairs
    ar = torch.arange(batch)
    task = torch.randint(0, cfg.n_tasks, (batch,), generator=g)                       # (B,) the prompt's map
    order = torch.argsort(torch.rand(batch, K, generator=g), dim=1)                   # (B, K) new keys in this order
    n_new = torch.zeros(batch, dtype=torch.long)                                      # (B,) distinct keys shown
    keys = torch.empty(batch, P, dtype=torch.long)
    for j in range(P):
        again = ((torch.rand(batch, generator=g) < cfg.p_seen) & (n_new > 0)) | (n_new >= K)
        old = order[ar, (torch.rand(batch, generator=g) * n_new.clamp(min=1)).long()]  # a key already shown
        keys[:, j] = torch.where(again, old, order[ar, n_new.clamp(max=K - 1)])
        n_new += (~again).long()
    vals = family[task[:, None], keys]                                                # (B, P) f_t(k)
    seq = torch.stack([keys, vals + K], 2).reshape(batch, 2 * P)                      # (B, 2P) k v k v …
    target = torch.full((batch, 2 * P), -100, dtype=torch.long)
    target[:, 0::2] = vals + K                                                        # predict v at k's position
    return seq, target


@dataclass(frozen=True)
class ICLPrompts:
    x: torch.Tensor                  # (n, 2s+1) tokens `k1 v1 … k_s v_s q` (distinct example keys)
    answer: torch.Tensor             # (n,) value index f_t(q)
    task: torch.Tensor               # (n,) index of the prompt's map in the family
    seen: torch.Tensor               # (n,) bool: q is among the examples
    where: torch.Tensor              # (n,) position of the value after the matching key (-1 if not seen)


def icl_prompts(cfg: ICLConfig, shots: int, n: int, g: torch.Generator, family: torch.Tensor) -> ICLPrompts:
    """n test prompts with `shots` examples of distinct keys; the question's key is one of them with probability
    p_seen (never for 0 shots), else a key not shown."""
    K = cfg.n_keys
    ar = torch.arange(n)
    task = torch.randint(0, cfg.n_tasks, (n,), generator=g)                           # (n,)
    order = torch.argsort(torch.rand(n, K, generator=g), dim=1)                       # (n, K)
    ex = order[:, :shots]                                                             # (n, s) distinct keys
    seen = (torch.rand(n, generator=g) < cfg.p_seen) & (shots > 0)                    # (n,)
    j = torch.randint(0, max(shots, 1), (n,), generator=g).clamp(max=max(shots - 1, 0))
    q = torch.where(seen, order[ar, j], order[:, shots])                              # (n,) question key
    vals = family[task[:, None], ex]                                                  # (n, s)
    x = torch.cat([torch.stack([ex, vals + K], 2).reshape(n, 2 * shots), q[:, None]], 1)   # (n, 2s+1)
    return ICLPrompts(x, family[task, q], task, seen, torch.where(seen, 2 * j + 1, torch.full_like(j, -1)))


def icl_posterior(cfg: ICLConfig, family: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r"""The Bayes-optimal answer distribution for prompts x (n, 2s+1), by brute force over the T maps (uniform prior):

    $$ P(t \mid \text{examples}) \propto \prod_{i=1}^{s} [f_t(k_i) = v_i],\qquad
       P(v \mid \text{prompt}) = \sum_t P(t \mid \text{examples})\,[f_t(q) = v] $$

    Returns (n, V) float64. The best possible accuracy on a prompt is $\max_v P(v \mid \text{prompt})$."""
    K, V = cfg.n_keys, cfg.n_values
    n, s = x.shape[0], (x.shape[1] - 1) // 2
    cons = torch.ones(n, cfg.n_tasks, dtype=torch.bool)                               # (n, T) maps still possible
    for i in range(s):
        cons &= family[:, x[:, 2 * i]].T == (x[:, 2 * i + 1:2 * i + 2] - K)           # f_t(k_i) = v_i
    pv = torch.zeros(n, V, dtype=torch.float64)
    pv.scatter_add_(1, family[:, x[:, -1]].T, cons.double())                          # Σ_t [t possible][f_t(q) = v]
    return pv / pv.sum(1, keepdim=True)                                               # (n, V)


def icl_optimum(cfg: ICLConfig, family: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The exact Bayes-optimal accuracy for 0 … max_shots examples, overall and for new-key questions: the
    expectation over every set of example keys, every map of the family and every question key (with their
    probabilities) of max_v P(v | prompt). (Order of the examples does not change the posterior.)"""
    from itertools import combinations
    K, V = cfg.n_keys, cfg.n_values
    onehot = F.one_hot(family, V).double()                                            # (T, K, V)
    overall, new_key = [], []
    for s in range(cfg.max_shots + 1):
        sets = list(combinations(range(K), s))
        acc_seen = acc_new = 0.0
        for S in sets:
            FS = family[:, list(S)]                                                   # (T, s)
            same = (FS[:, None, :] == FS[None, :, :]).all(-1).double()                # (T, T) t' agrees with t on S
            for q in range(K):
                counts = same @ onehot[:, q]                                          # (T, V) for each true map t
                a = float((counts.max(1).values / counts.sum(1)).mean())              # mean over t of max_v P(v|·)
                if q in S:
                    acc_seen += a / s
                else:
                    acc_new += a / (K - s)
        acc_seen, acc_new = acc_seen / len(sets), acc_new / len(sets)
        p = cfg.p_seen if s > 0 else 0.0
        overall.append(p * acc_seen + (1 - p) * acc_new)
        new_key.append(acc_new)
    return tuple(overall), tuple(new_key)


def weights_digest(model: nn.Module) -> str:
    """A SHA-256 of every parameter's bytes (first 16 hex digits): equal digests = identical weights."""
    import hashlib
    h = hashlib.sha256()
    for name, p in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class ICLEval:
    shots: tuple[int, ...]           # 0 … max_shots
    accuracy: tuple[float, ...]      # per number of shots (answer = arg-max over the value tokens)
    accuracy_seen: tuple[float, ...]  # on the prompts whose question key is among the examples (nan at 0 shots)
    accuracy_new: tuple[float, ...]  # on the prompts whose question key is new
    optimum: tuple[float, ...]       # exact Bayes-optimal accuracy (icl_optimum)
    optimum_new: tuple[float, ...]   # the same for new-key questions
    chance: float                    # 1 / n_values
    induction: np.ndarray            # (n_layer, n_head) attention from the question to the value after its key
    previous: np.ndarray             # (n_layer, n_head) attention from each value to the key just before it
    digest_before: str
    digest_after: str


def icl_evaluate(model: GPT, cfg: ICLConfig, family: torch.Tensor, optimum=None, seed: int = 1234) -> ICLEval:
    """Accuracy against the number of in-prompt examples on fresh test prompts, with the weights hashed before and
    after (inference mode: no gradient exists). The head scores are measured on the max_shots prompts."""
    before = weights_digest(model)
    was = model.training
    model.eval()
    opt, opt_new = optimum or icl_optimum(cfg, family)
    g = torch.Generator().manual_seed(seed)
    accs, a_seen, a_new = [], [], []
    ind, prev = np.zeros((cfg.n_layer, cfg.n_head)), np.zeros((cfg.n_layer, cfg.n_head))
    with torch.inference_mode():
        for s in range(cfg.max_shots + 1):
            pr = icl_prompts(cfg, s, cfg.eval_prompts, g, family)                     # (n, 2s+1)
            logits, atts = model(pr.x, need_weights=True)                             # (n, T, V)
            ok = (logits[:, -1, cfg.n_keys:].argmax(-1) == pr.answer).float()         # (n,) among the values
            accs.append(float(ok.mean()))
            a_seen.append(float(ok[pr.seen].mean()) if pr.seen.any() else float("nan"))
            a_new.append(float(ok[~pr.seen].mean()))
            if s == cfg.max_shots and s > 0:
                rows = torch.nonzero(pr.seen).flatten()
                for li, a in enumerate(atts):                                         # a: (n, nh, T, T)
                    ind[li] = a[rows, :, -1, pr.where[rows]].mean(0).numpy()          # (nh,) question → value
                    vpos = torch.arange(1, 2 * s, 2)                                  # value positions
                    prev[li] = a[:, :, vpos, vpos - 1].mean((0, 2)).numpy()           # (nh,) value → its key
    model.train(was)
    return ICLEval(tuple(range(cfg.max_shots + 1)), tuple(accs), tuple(a_seen), tuple(a_new), tuple(opt),
                   tuple(opt_new), 1 / cfg.n_values, ind, prev, before, weights_digest(model))


@dataclass(frozen=True)
class ICLExample:
    tokens: tuple[str, ...]          # the prompt `k1 v1 … q`
    answer: str
    pred: str
    seen: bool                       # the question's key is among the examples
    maps_left: int                   # maps of the family consistent with the examples
    optimum: float                   # max_v P(v | prompt): the best possible chance of being right
    attention: np.ndarray            # (n_layer, n_head, T, T) rounded


def icl_example(model: GPT, cfg: ICLConfig, family: torch.Tensor, shots: int, seen: bool, seed: int) -> ICLExample:
    """One test prompt (question key among the examples or not), the model's answer and its attention maps."""
    g = torch.Generator().manual_seed(seed)
    pr = icl_prompts(cfg, shots, 16, g, family)
    i = int(torch.nonzero(pr.seen == seen).flatten()[0]) if (pr.seen == seen).any() else 0
    x = pr.x[i:i + 1]                                                                 # (1, 2s+1)
    with torch.inference_mode():
        logits, atts = model(x, need_weights=True)
    pred = int(logits[0, -1, cfg.n_keys:].argmax())
    post = icl_posterior(cfg, family, x)[0]                                           # (V,)
    cons = torch.ones(cfg.n_tasks, dtype=torch.bool)
    for j in range(shots):
        cons &= family[:, x[0, 2 * j]] == x[0, 2 * j + 1] - cfg.n_keys
    att = np.round(torch.stack([a[0] for a in atts]).numpy(), 3)                      # (L, nh, T, T)
    return ICLExample(tuple(cfg.vocab[t] for t in x[0].tolist()), cfg.vocab[cfg.n_keys + int(pr.answer[i])],
                      cfg.vocab[cfg.n_keys + pred], bool(pr.seen[i]), int(cons.sum()), float(post.max()), att)


@dataclass(frozen=True)
class ICLSnapshot:
    step: int
    metrics: dict                    # loss, acc0, acc1, acc2, acc_max
    eval: ICLEval
    example_seen: ICLExample         # question key among the examples (copy)
    example_new: ICLExample          # question key new (infer the map)
    seconds: float = 0.0


def train_icl(cfg: ICLConfig) -> Iterator[ICLSnapshot]:
    """Train a small GPT on prompts of the task family; a snapshot (loss, accuracy per number of shots against the
    optimum, attention on a test prompt) every `steps_per_snapshot` Adam steps, up to `max_steps`. `seconds` counts
    training only (the tests between snapshots are excluded)."""
    from engine.common.optim import AdamW
    model = init_gpt(cfg.gpt, cfg.seed)
    family = icl_family(cfg)
    optimum = icl_optimum(cfg, family)
    g = torch.Generator().manual_seed(cfg.seed)
    opt = AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), weight_decay=0.0)
    step, t_train, loss_v = 0, 0.0, float("nan")
    shots_ex = min(3, cfg.max_shots)

    def snap() -> ICLSnapshot:
        ev = icl_evaluate(model, cfg, family, optimum)
        return ICLSnapshot(step, {"loss": loss_v, "acc0": ev.accuracy[0], "acc1": ev.accuracy[min(1, cfg.max_shots)],
                                  "acc2": ev.accuracy[min(2, cfg.max_shots)], "acc_max": ev.accuracy[-1]}, ev,
                           icl_example(model, cfg, family, shots_ex, True, cfg.seed + 99),
                           icl_example(model, cfg, family, shots_ex, False, cfg.seed + 99), t_train)

    yield snap()
    while step < cfg.max_steps:
        t0 = time.perf_counter()
        for _ in range(min(cfg.steps_per_snapshot, cfg.max_steps - step)):
            x, y = icl_batch(cfg, cfg.batch_size, g, family)                          # (B, 2P)
            logits = model(x)                                                         # (B, 2P, V)
            # cross-entropy on the answers only: -log p(v | k v … k)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        loss_v = loss.item()
        t_train += time.perf_counter() - t0
        yield snap()


# ------------------------------------------------------------------------------------------------ scaling law

@dataclass(frozen=True)
class PowerFit:
    """log L = α log N_c − α log N, fitted by least squares on log–log points."""
    alpha: float                     # α_N
    alpha_lo: float                  # 95 % interval (Student t on the slope)
    alpha_hi: float
    n_c: float                       # N_c
    n_points: int


def fit_power_law(n: np.ndarray, loss: np.ndarray) -> PowerFit:
    r"""Fit $L(N) = (N_c/N)^{\alpha_N}$ (Kaplan et al. 2020, Eq. 1.1): a line $\log L = \alpha_N\log N_c -
    \alpha_N \log N$ in log–log coordinates; the interval on $\alpha_N$ is the slope's 95 % t-interval."""
    from scipy import stats
    x, y = np.log(np.asarray(n, float)), np.log(np.asarray(loss, float))
    if len(x) < 3:
        raise ValueError("need at least three sizes")
    res = stats.linregress(x, y)
    tq = stats.t.ppf(0.975, len(x) - 2)
    alpha = -res.slope
    # log L = α log N_c − α log N  →  intercept = α log N_c
    n_c = float(np.exp(res.intercept / alpha)) if alpha > 0 else float("nan")
    return PowerFit(float(alpha), float(alpha - tq * res.stderr), float(alpha + tq * res.stderr), n_c, len(x))


def kaplan_loss(n: np.ndarray | float) -> np.ndarray:
    """Kaplan et al.'s L(N) = (N_c / N)^α_N with the paper's constants (nats per token, WebText2)."""
    return (KAPLAN_N_C / np.asarray(n, float)) ** KAPLAN_ALPHA_N


def gpt3_non_embedding() -> float:
    """GPT-3 175B's non-embedding parameters by Kaplan's count 12 n_layer d_model² (≈ 1.74e11)."""
    return 12 * GPT3["n_layer"] * GPT3["d_model"] ** 2


# sizes of the precomputed sweep (scripts/gpt3/scaling.py): (n_layer, n_head, n_embd)
SWEEP = ((1, 2, 16), (1, 2, 32), (2, 4, 48), (2, 4, 64), (3, 4, 96), (4, 4, 128))
SWEEP_TRAIN = dict(block_size=64, steps=400, batch_size=16, lr=3e-3, seed=0)


def sweep_run(size: tuple[int, int, int], every: int = 25) -> Iterator[LMSnapshot]:
    """One size of the sweep: the same data, steps, batch and seed as the precomputed JSON."""
    text = english_corpus()
    vocab = build_vocab(text)
    data = torch.tensor(vocab.encode(text), dtype=torch.long)
    n = int(0.95 * len(data))
    L, H, C = size
    cfg = GPTConfig(vocab_size=vocab.size, block_size=SWEEP_TRAIN["block_size"], n_layer=L, n_head=H, n_embd=C)
    model = init_gpt(cfg, SWEEP_TRAIN["seed"])
    yield from train_lm(cfg, data[:n], data[n:], steps=SWEEP_TRAIN["steps"], batch_size=SWEEP_TRAIN["batch_size"],
                        lr=SWEEP_TRAIN["lr"], seed=SWEEP_TRAIN["seed"], model=model, every=every)


def load_sweep() -> dict:
    """The precomputed sweep (assets/gpt3/scaling.json)."""
    import json
    return json.loads(SCALING_JSON.read_text())
