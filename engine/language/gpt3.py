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
    """Python's own documentation topics (pydoc_data.topics, ~465 kB of English, ships with CPython)."""
    import pydoc_data.topics as topics
    return "\n\n".join(topics.topics[k] for k in sorted(topics.topics))


def japanese_corpus(root: Path | None = None) -> str:
    """The app's own Japanese text: every string of every `[ja]` table in locales/*.toml, in file order."""
    import tomllib
    root = root or Path(__file__).resolve().parents[2]
    parts: list[str] = []

    def walk(o):
        if isinstance(o, str):
            parts.append(o)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    for f in sorted((root / "locales").glob("*.toml")):
        walk(tomllib.loads(f.read_text(encoding="utf-8")).get("ja", {}))
    return "\n".join(parts)


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
    logits (V,) → probs (V,) float64 summing to 1.
    """
    z = logits.detach().double()                                           # (V,)
    if temperature <= 0:
        out = torch.zeros_like(z)
        out[int(torch.argmax(z))] = 1.0
        return out
    p = torch.softmax(z / temperature, dim=-1)                             # (V,) p_i ∝ exp(z_i / T)
    keep = torch.ones_like(p, dtype=torch.bool)
    order = torch.argsort(p, descending=True, stable=True)                 # (V,) most likely first
    if top_k and top_k < p.numel():
        keep[order[top_k:]] = False
    if top_p < 1.0:
        ps = p[order] * keep[order]
        before = torch.cumsum(ps, 0) - ps                                  # mass of the tokens ranked above
        cut = before >= top_p * ps.sum()                                   # the nucleus: smallest set reaching p
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
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    it = batches(data, cfg.block_size, batch_size, g)
    gv = torch.Generator().manual_seed(seed + 1)
    vx, vy = next(batches(val, cfg.block_size, 32, gv))                   # (32, T) fixed validation windows
    warm = max(1, steps // 20)
    t0, ema = time.perf_counter(), None
    for step in range(1, steps + 1):
        lr_t = lr * min(1.0, step / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / steps)))
        lr_t = max(lr_t, lr * 0.1) if step > warm else lr_t
        for pg in opt.param_groups:
            pg["lr"] = lr_t
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
    r"""Synthetic in-context task: every prompt draws a fresh map key → value, shows pairs `k v k v …` and the model
    must answer the value of a key it has seen earlier *in the same prompt*. No map is shared between prompts, so
    nothing about the answer can be stored in the weights: only reading the prompt helps."""
    n_keys: int = 16                 # keys are the letters A, B, …
    n_values: int = 10               # values are the digits 0, 1, … (chance = 1 / n_values)
    n_pairs: int = 12                # pairs per training sequence (keys repeat: a repeat is a question)
    max_distinct: int = 8            # distinct keys per training sequence drawn from 2 … max_distinct
    max_shots: int = 8               # evaluated from 0 to max_shots examples
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    batch_size: int = 32
    lr: float = 3e-3
    steps_per_snapshot: int = 10
    eval_prompts: int = 128          # test prompts per number of shots
    max_steps: int = 3000
    seed: int = 0

    @property
    def vocab(self) -> str:
        return "".join(chr(ord("A") + i) for i in range(self.n_keys)) + "".join(
            "0123456789abcdefghijklmnopqrstuvwxyz"[i] for i in range(self.n_values))

    @property
    def gpt(self) -> GPTConfig:
        return GPTConfig(vocab_size=self.n_keys + self.n_values, block_size=2 * max(self.n_pairs, self.max_shots) + 1,
                         n_layer=self.n_layer, n_head=self.n_head, n_embd=self.n_embd)


def icl_batch(cfg: ICLConfig, batch: int, g: torch.Generator):
    """Training sequences (B, 2·n_pairs): keys from a per-sequence subset, values from a fresh map per sequence;
    `target` (B, 2·n_pairs) is the next token where it is a value whose key appeared before, else -100 (no loss)."""
    K, V, P = cfg.n_keys, cfg.n_values, cfg.n_pairs
    perm = torch.argsort(torch.rand(batch, K, generator=g), dim=1)                    # (B, K) shuffled keys
    m = torch.randint(2, cfg.max_distinct + 1, (batch, 1), generator=g)               # (B, 1) distinct keys used
    pick = (torch.rand(batch, P, generator=g) * m).long()                             # (B, P) in 0 … m-1
    keys = torch.gather(perm, 1, pick)                                                # (B, P) key ids
    table = torch.randint(0, V, (batch, K), generator=g)                              # (B, K) fresh map per prompt
    vals = torch.gather(table, 1, keys) + K                                           # (B, P) value token ids
    seq = torch.stack([keys, vals], 2).reshape(batch, 2 * P)                          # (B, 2P) k v k v …
    seen = torch.zeros(batch, P, dtype=torch.bool)
    for j in range(1, P):
        seen[:, j] = (keys[:, :j] == keys[:, j:j + 1]).any(1)                         # key repeated → question
    target = torch.full((batch, 2 * P), -100, dtype=torch.long)
    target[:, 0::2] = torch.where(seen, vals, torch.full_like(vals, -100))            # predict v at k's position
    return seq, target


def icl_prompts(cfg: ICLConfig, shots: int, n: int, g: torch.Generator):
    """n test prompts `k1 v1 … k_s v_s q` (distinct keys, q one of them; q alone for 0 shots): (n, 2s+1) tokens,
    the answers (n,) as value indices 0 … n_values-1, and the position of the matching value (n,) (-1 for 0 shots)."""
    K, V = cfg.n_keys, cfg.n_values
    keys = torch.argsort(torch.rand(n, K, generator=g), dim=1)[:, :max(shots, 1)]     # (n, s) distinct
    table = torch.randint(0, V, (n, K), generator=g)                                  # (n, K) fresh map
    vals = torch.gather(table, 1, keys)                                               # (n, s)
    j = torch.randint(0, max(shots, 1), (n,), generator=g)                            # (n,) which key is asked
    q = keys[torch.arange(n), j]                                                      # (n,)
    ans = table[torch.arange(n), q]                                                   # (n,)
    if shots == 0:
        return q[:, None], ans, torch.full((n,), -1)
    seq = torch.stack([keys, vals + K], 2).reshape(n, 2 * shots)                      # (n, 2s)
    return torch.cat([seq, q[:, None]], 1), ans, 2 * j + 1


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
    chance: float                    # 1 / n_values
    induction: np.ndarray            # (n_layer, n_head) mean attention from the query to the matching value
    digest_before: str
    digest_after: str


def icl_evaluate(model: GPT, cfg: ICLConfig, seed: int = 1234) -> ICLEval:
    """Accuracy against the number of in-prompt examples, with the weights hashed before and after (no gradient
    is taken: inference mode)."""
    before = weights_digest(model)
    was = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    accs, ind = [], np.zeros((cfg.n_layer, cfg.n_head))
    with torch.inference_mode():
        for s in range(cfg.max_shots + 1):
            x, ans, where = icl_prompts(cfg, s, cfg.eval_prompts, g)                    # (n, 2s+1)
            logits, atts = model(x, need_weights=True)                                 # (n, T, V)
            pred = logits[:, -1, cfg.n_keys:].argmax(-1)                               # (n,) among the values
            accs.append(float((pred == ans).float().mean()))
            if s == cfg.max_shots:
                for li, a in enumerate(atts):                                          # a: (n, nh, T, T)
                    ind[li] = a[torch.arange(len(x)), :, -1, where].mean(0).numpy()    # (nh,) query → value
    model.train(was)
    return ICLEval(tuple(range(cfg.max_shots + 1)), tuple(accs), 1 / cfg.n_values, ind, before,
                   weights_digest(model))


@dataclass(frozen=True)
class ICLSnapshot:
    step: int
    metrics: dict                    # loss, acc0, acc1, acc_max
    eval: ICLEval
    example: tuple[str, ...]         # one test prompt's tokens
    example_answer: str
    example_pred: str
    example_attention: np.ndarray    # (n_layer, n_head, T, T) on the example prompt, rounded
    seconds: float = 0.0


def icl_example(model: GPT, cfg: ICLConfig, shots: int, seed: int):
    """One test prompt, the model's answer and its attention maps (n_layer, n_head, T, T)."""
    g = torch.Generator().manual_seed(seed)
    x, ans, _ = icl_prompts(cfg, shots, 1, g)
    with torch.inference_mode():
        logits, atts = model(x, need_weights=True)
    pred = int(logits[0, -1, cfg.n_keys:].argmax())
    tokens = tuple(cfg.vocab[i] for i in x[0].tolist())
    att = np.round(torch.stack([a[0] for a in atts]).numpy(), 3)                       # (L, nh, T, T)
    return tokens, cfg.vocab[cfg.n_keys + int(ans[0])], cfg.vocab[cfg.n_keys + pred], att


def train_icl(cfg: ICLConfig) -> Iterator[ICLSnapshot]:
    """Train a small GPT on fresh-map prompts; a snapshot (loss, accuracy per number of shots, attention on one test
    prompt) every `steps_per_snapshot` AdamW steps, up to `max_steps`."""
    model = init_gpt(cfg.gpt, cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), weight_decay=0.0)
    step, t_train, loss_v = 0, 0.0, float("nan")

    def snap() -> ICLSnapshot:
        ev = icl_evaluate(model, cfg)
        toks, a, p, att = icl_example(model, cfg, min(4, cfg.max_shots), cfg.seed + 99)
        return ICLSnapshot(step, {"loss": loss_v, "acc0": ev.accuracy[0], "acc1": ev.accuracy[1],
                                  "acc_max": ev.accuracy[-1]}, ev, toks, a, p, att, t_train)

    yield snap()
    while step < cfg.max_steps:
        t0 = time.perf_counter()
        for _ in range(cfg.steps_per_snapshot):
            x, y = icl_batch(cfg, cfg.batch_size, g)                                   # (B, 2P)
            logits = model(x)                                                          # (B, 2P, V)
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
