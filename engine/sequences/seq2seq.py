r"""Encoder–decoder (seq2seq) with and without attention, trained live on `engine.common.seqtasks`' tasks.

An encoder RNN reads the source characters $x_1 … x_S$ into hidden states $h_1 … h_S$; a decoder RNN writes the
target one character at a time from its state $s_i$. Three ways for the decoder to see the source:

- ``"none"`` (Cho et al. 2014; Sutskever et al. 2014): one context vector $c = h_S$, the encoder's last state,
  starts the decoder and is fed at every step. Everything the source says must squeeze through it.
- ``"additive"`` (Bahdanau et al. 2015): before writing character $i$, score every source position with the
  previous decoder state, $e_{ij} = v^\top \tanh(W s_{i-1} + U h_j)$, weigh them $\alpha_{ij} = \mathrm{softmax}_j
  (e_{ij})$, and feed the context $c_i = \sum_j \alpha_{ij} h_j$ into the decoder's step.
- ``"dot"`` (Luong et al. 2015, "dot" score): after the decoder's step, $e_{ij} = s_i^\top h_j$, the same softmax
  and context, then $\tilde s_i = \tanh(W_c [c_i; s_i])$ predicts the character.

Simplifications, the same for the three decoders so that only the attention differs: the encoder reads left to
right (Bahdanau et al. read both ways), the decoder starts from the encoder's last state, and the output layer is
linear in $[s_i; c_i]$ (Bahdanau et al.: a maxout layer that also sees $y_{i-1}$).

The cells are `GRUCell` and `LSTMCell`, written out with `torch.nn.GRUCell` / `torch.nn.LSTMCell`'s parameter
names and gate order (tested equal with copied weights). Training is a generator of `Snapshot`s; the decoder reads
the true previous character with probability `teacher_forcing` (teacher forcing, Williams & Zipser 1989) and its
own previous guess otherwise (free running). Decoding: `greedy` (batched) and `beam_search` (generic: any step
function; tested against exhaustive search).

Public API for other chapters (the Transformer chapter trains on the same task next to this model):
`Seq2SeqConfig`, `make_model(cfg)`, `model_from_state(cfg, state)`, `train(cfg) -> Iterator[Snapshot]`,
`evaluate(model, task, pairs)`, `greedy(model, src)`, `beam_search(...)`, `translate(model, task, text, ...)`.

References
----------
Cho et al., EMNLP 2014 (GRU, Eq. 5–8; encoder–decoder with one context vector); Sutskever et al., NIPS 2014;
Bahdanau, Cho & Bengio, ICLR 2015 (additive attention, Eq. 5–6 and A.1.2); Luong, Pham & Manning, EMNLP 2015
(dot score, Eq. 5 and 8); Hochreiter & Schmidhuber 1997 (LSTM); Williams & Zipser 1989 (teacher forcing).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from engine.common import optim, seqtasks
from engine.common.seqtasks import EOS, PAD, SOS, Task

CELLS = ("gru", "lstm")
ATTENTIONS = ("none", "additive", "dot")
TARGET = 0.95                      # the page's goal: ≥ 95 % exact matches on the held-out pairs


@dataclass(frozen=True)
class Seq2SeqConfig:
    task: str = "dates"            # a key of seqtasks.TASKS
    attention: str = "additive"    # "none" | "additive" | "dot"
    cell: str = "gru"              # "gru" | "lstm"
    emb: int = 32                  # character embedding size
    hidden: int = 64               # encoder and decoder state size H
    lr: float = 3e-3               # Adam's step size
    batch_size: int = 64
    teacher_forcing: float = 1.0   # probability that the decoder reads the true previous character
    clip: float = 1.0              # gradient norm clipping
    steps: int = 4000              # updates in all
    every: int = 5                 # updates between two snapshots (one snapshot ≈ 0.1–0.2 s on one core)
    val_size: int = 128            # held-out pairs (seqtasks.validation_set) for the accuracies
    seed: int = 0


# ------------------------------------------------------------------------------------------------ cells
def _uniform(shape, bound: float, g: torch.Generator) -> nn.Parameter:
    return nn.Parameter((torch.rand(shape, generator=g) * 2 - 1) * bound)


class GRUCell(nn.Module):
    r"""A GRU cell with `torch.nn.GRUCell`'s parameters (gates r, z, n stacked in that order):

    $$r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}),\quad z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz})$$
    $$n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})),\quad h' = (1 - z) \odot n + z \odot h$$

    The state is the tuple ``(h,)``."""

    n_gates = 3

    def __init__(self, input_size: int, hidden_size: int, g: torch.Generator):
        super().__init__()
        k = 1 / math.sqrt(hidden_size)                      # torch's init: U(−1/√H, 1/√H)
        self.hidden_size = hidden_size
        self.weight_ih = _uniform((3 * hidden_size, input_size), k, g)
        self.weight_hh = _uniform((3 * hidden_size, hidden_size), k, g)
        self.bias_ih = _uniform((3 * hidden_size,), k, g)
        self.bias_hh = _uniform((3 * hidden_size,), k, g)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """W_i x + b_i for many steps at once: (..., I) → (..., 3H)."""
        return x @ self.weight_ih.T + self.bias_ih

    def zero_state(self, batch: int) -> tuple[torch.Tensor, ...]:
        return (torch.zeros(batch, self.hidden_size),)

    def step(self, gi: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """One step from the projected input `gi` (B, 3H) and the state ``(h,)``."""
        (h,) = state
        gh = h @ self.weight_hh.T + self.bias_hh                            # (B, 3H)
        i_r, i_z, i_n = gi.chunk(3, -1)
        h_r, h_z, h_n = gh.chunk(3, -1)
        r = torch.sigmoid(i_r + h_r)                                        # reset gate
        z = torch.sigmoid(i_z + h_z)                                        # update gate
        n = torch.tanh(i_n + r * h_n)                                       # candidate
        # h' = (1 − z) ⊙ n + z ⊙ h
        return ((1 - z) * n + z * h,)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """`torch.nn.GRUCell`'s call: (B, I), (B, H) → (B, H)."""
        return self.step(self.project(x), (h,))[0]


class LSTMCell(nn.Module):
    r"""An LSTM cell with `torch.nn.LSTMCell`'s parameters (gates i, f, g, o stacked in that order):

    $$i = \sigma(\cdot),\ f = \sigma(\cdot),\ g = \tanh(\cdot),\ o = \sigma(\cdot)\quad
      (\cdot = W_{i\ast} x + b_{i\ast} + W_{h\ast} h + b_{h\ast})$$
    $$c' = f \odot c + i \odot g,\quad h' = o \odot \tanh(c')$$

    The state is the tuple ``(h, c)``."""

    n_gates = 4

    def __init__(self, input_size: int, hidden_size: int, g: torch.Generator):
        super().__init__()
        k = 1 / math.sqrt(hidden_size)
        self.hidden_size = hidden_size
        self.weight_ih = _uniform((4 * hidden_size, input_size), k, g)
        self.weight_hh = _uniform((4 * hidden_size, hidden_size), k, g)
        self.bias_ih = _uniform((4 * hidden_size,), k, g)
        self.bias_hh = _uniform((4 * hidden_size,), k, g)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight_ih.T + self.bias_ih

    def zero_state(self, batch: int) -> tuple[torch.Tensor, ...]:
        return (torch.zeros(batch, self.hidden_size), torch.zeros(batch, self.hidden_size))

    def step(self, gi: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        h, c = state
        gates = gi + h @ self.weight_hh.T + self.bias_hh                    # (B, 4H)
        i, f, g, o = gates.chunk(4, -1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        # c' = f ⊙ c + i ⊙ g ;  h' = o ⊙ tanh(c')
        c = f * c + i * g
        return (o * torch.tanh(c), c)

    def forward(self, x: torch.Tensor, hc: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """`torch.nn.LSTMCell`'s call: (B, I), (h, c) → (h', c')."""
        return self.step(self.project(x), tuple(hc))


def make_cell(kind: str, input_size: int, hidden_size: int, g: torch.Generator) -> nn.Module:
    return {"gru": GRUCell, "lstm": LSTMCell}[kind](input_size, hidden_size, g)


# -------------------------------------------------------------------------------------------- attention
def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""$\alpha_j = \exp(e_j) / \sum_{k:\,\mathrm{mask}_k} \exp(e_k)$ over the real positions; 0 at padding.
    scores, mask: (B, S) → (B, S)."""
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


def additive_scores(query: torch.Tensor, keys_proj: torch.Tensor, W: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r"""Bahdanau's score $e_j = v^\top \tanh(W q + U k_j)$ with $U k_j$ already computed (`keys_proj`, once per
    source). query (B, Hq), keys_proj (B, S, A), W (A, Hq), v (A,) → (B, S)."""
    # e_j = vᵀ tanh(W q + U k_j)
    return torch.tanh((query @ W.T)[:, None, :] + keys_proj) @ v             # (B, S)


def dot_scores(query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    r"""Luong's dot score $e_j = q^\top k_j$. query (B, H), keys (B, S, H) → (B, S)."""
    # e_j = qᵀ k_j
    return torch.bmm(keys, query[:, :, None])[:, :, 0]                       # (B, S)


def attend(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    r"""Context $c = \sum_j \alpha_j v_j$. weights (B, S), values (B, S, H) → (B, H)."""
    return torch.bmm(weights[:, None, :], values)[:, 0]                      # (B, H)


def dot_attention(query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Dot-product attention of one query per sequence over its keys (= values): (context (B, H), α (B, S))."""
    weights = masked_softmax(dot_scores(query, keys), mask)
    return attend(weights, keys), weights


# ------------------------------------------------------------------------------------------------ model
@dataclass
class Memory:
    """What the decoder reads from the encoder, one row per sequence (beam search reorders rows)."""
    outputs: torch.Tensor        # (B, S, H) encoder states h_j (0 at padding)
    mask: torch.Tensor           # (B, S) True at real source characters
    keys_proj: torch.Tensor      # (B, S, A) U h_j for additive attention, else (B, 0, 0)
    context: torch.Tensor        # (B, H) the encoder's last state (the one context vector without attention)

    def select(self, idx: torch.Tensor) -> "Memory":
        return Memory(self.outputs[idx], self.mask[idx], self.keys_proj[idx], self.context[idx])


class Seq2Seq(nn.Module):
    """Character encoder–decoder; `cfg.attention` picks how the decoder reads the source (see the module doc)."""

    def __init__(self, cfg: Seq2SeqConfig, task: Task):
        super().__init__()
        if cfg.attention not in ATTENTIONS or cfg.cell not in CELLS:
            raise ValueError(f"attention {cfg.attention!r} / cell {cfg.cell!r}")
        g = torch.Generator().manual_seed(cfg.seed)
        E, H = cfg.emb, cfg.hidden
        self.cfg, self.task = cfg, task
        self.src_embed = nn.Embedding(task.src_vocab.size, E, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(task.tgt_vocab.size, E, padding_idx=PAD)
        with torch.no_grad():
            for emb in (self.src_embed, self.tgt_embed):
                emb.weight.copy_(torch.randn(emb.weight.shape, generator=g) * 0.3)
                emb.weight[PAD] = 0
        self.encoder = make_cell(cfg.cell, E, H, g)
        # the decoder's input: the previous character, plus the context where it is fed in (none, additive)
        self.decoder = make_cell(cfg.cell, E + (H if cfg.attention in ("none", "additive") else 0), H, g)
        k = 1 / math.sqrt(H)
        if cfg.attention == "additive":
            self.W = _uniform((H, H), k, g)          # W s_{i−1}
            self.U = _uniform((H, H), k, g)          # U h_j
            self.v = _uniform((H,), k, g)
        if cfg.attention == "dot":
            self.W_c = _uniform((H, 2 * H), 1 / math.sqrt(2 * H), g)
            self.out = _uniform((task.tgt_vocab.size, H), k, g)
        else:
            self.out = _uniform((task.tgt_vocab.size, 2 * H), 1 / math.sqrt(2 * H), g)
        self.out_bias = nn.Parameter(torch.zeros(task.tgt_vocab.size))

    # ------------------------------------------------------------------------------------------ encoder
    def encode(self, src: torch.Tensor) -> tuple[Memory, tuple[torch.Tensor, ...]]:
        """src (B, S) ids, PAD on the right → (Memory, the encoder's final state). A padded step keeps the state,
        so the final state is the one after each sequence's own last character."""
        B, S = src.shape
        mask = src != PAD                                                    # (B, S)
        gi = self.encoder.project(self.src_embed(src))                       # (B, S, G·H)
        state = self.encoder.zero_state(B)
        outs = []
        for j in range(S):
            new = self.encoder.step(gi[:, j], state)
            keep = mask[:, j, None]
            state = tuple(torch.where(keep, n, o) for n, o in zip(new, state))
            outs.append(state[0])
        outputs = torch.stack(outs, 1) * mask[:, :, None]                    # (B, S, H)
        if self.cfg.attention == "additive":
            keys_proj = outputs @ self.U.T                                   # (B, S, H)
        else:
            keys_proj = outputs.new_zeros(B, 0, 0)
        return Memory(outputs, mask, keys_proj, state[0]), state

    # ------------------------------------------------------------------------------------------ decoder
    def decode_step(self, token: torch.Tensor, state: tuple[torch.Tensor, ...], memory: Memory
                    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], torch.Tensor | None]:
        """One decoder step: previous character ids (B,), decoder state, memory → (logits (B, V), new state,
        attention weights α (B, S) or None without attention)."""
        x = self.tgt_embed(token)                                            # (B, E)
        kind = self.cfg.attention
        if kind == "none":
            c = memory.context                                               # (B, H) one vector for all steps
            state = self.decoder.step(self.decoder.project(torch.cat([x, c], -1)), state)
            logits = torch.cat([state[0], c], -1) @ self.out.T + self.out_bias
            return logits, state, None
        if kind == "additive":
            # e_ij = vᵀ tanh(W s_{i−1} + U h_j);  α_ij = softmax_j;  c_i = Σ_j α_ij h_j
            alpha = masked_softmax(additive_scores(state[0], memory.keys_proj, self.W, self.v), memory.mask)
            c = attend(alpha, memory.outputs)                                # (B, H)
            state = self.decoder.step(self.decoder.project(torch.cat([x, c], -1)), state)
            logits = torch.cat([state[0], c], -1) @ self.out.T + self.out_bias
            return logits, state, alpha
        # dot (Luong): s_i first, then e_ij = s_iᵀ h_j, c_i, s̃_i = tanh(W_c [c_i; s_i])
        state = self.decoder.step(self.decoder.project(x), state)
        c, alpha = dot_attention(state[0], memory.outputs, memory.mask)
        s_tilde = torch.tanh(torch.cat([c, state[0]], -1) @ self.W_c.T)     # (B, H)
        return s_tilde @ self.out.T + self.out_bias, state, alpha

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor, teacher_forcing: float = 1.0,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) for every target position and the attention (B, T, S) (None without attention).
        At step i > 0 each sequence reads the true character `tgt_in[:, i]` with probability `teacher_forcing`,
        else its own previous argmax (free running). A coin is drawn per sequence and step from `generator`
        whatever the probability, so two probabilities see the same data and coins."""
        memory, state = self.encode(src)
        B, T = tgt_in.shape
        token = tgt_in[:, 0]
        logits_all, attn_all = [], []
        for i in range(T):
            if i > 0:
                coin = torch.rand(B, generator=generator) < teacher_forcing
                token = torch.where(coin, tgt_in[:, i], logits.detach().argmax(-1))
            logits, state, alpha = self.decode_step(token, state, memory)
            logits_all.append(logits)
            attn_all.append(alpha)
        attn = None if attn_all[0] is None else torch.stack(attn_all, 1)
        return torch.stack(logits_all, 1), attn


def make_model(cfg: Seq2SeqConfig) -> Seq2Seq:
    """A fresh model for `cfg`, initialised from `cfg.seed` (a local torch.Generator)."""
    return Seq2Seq(cfg, seqtasks.get_task(cfg.task))


def model_state(model: nn.Module) -> dict[str, np.ndarray]:
    """A copy of the weights as numpy arrays (what a `Snapshot` carries)."""
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def model_from_state(cfg: Seq2SeqConfig, state: dict[str, np.ndarray]) -> Seq2Seq:
    """The model of `cfg` with the weights of `state` (e.g. a snapshot's)."""
    model = make_model(cfg)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()})
    return model.eval()


def loss_fn(logits: torch.Tensor, tgt_out: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per target token (characters and EOS; PAD ignored)."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=PAD)


# ---------------------------------------------------------------------------------------------- decoding
def _no_specials(logits: torch.Tensor) -> torch.Tensor:
    """Log-probabilities with PAD and SOS impossible (never a target, never an output)."""
    logp = torch.log_softmax(logits, -1)
    logp[:, PAD] = float("-inf")
    logp[:, SOS] = float("-inf")
    return logp


@dataclass(frozen=True)
class Decoded:
    """Greedy decoding of a batch."""
    ids: np.ndarray              # (B, L) chosen ids, EOS then PAD after the end
    attention: np.ndarray | None  # (B, L, S) α of each output step (None without attention)
    log_prob: np.ndarray         # (B,) Σ log p of the chosen ids up to and including EOS
    texts: tuple[str, ...]


def greedy(model: Seq2Seq, src: torch.Tensor, max_len: int | None = None) -> Decoded:
    """Free-running greedy decoding: at each step the most probable character, fed back as the next input."""
    task = model.task
    max_len = task.max_tgt_len + 1 if max_len is None else max_len
    with torch.no_grad():
        memory, state = model.encode(src)
        B = src.shape[0]
        token = torch.full((B,), SOS, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        ids, attn, total = [], [], torch.zeros(B, dtype=torch.float64)
        for _ in range(max_len):
            logits, state, alpha = model.decode_step(token, state, memory)
            logp = _no_specials(logits)
            token = logp.argmax(-1)
            total += torch.where(done, 0.0, logp.gather(1, token[:, None])[:, 0].double())
            ids.append(torch.where(done, PAD, token))
            attn.append(alpha)
            done = done | (token == EOS)
            if bool(done.all()):
                break
        ids_np = torch.stack(ids, 1).numpy()
        att = None if attn[0] is None else torch.stack(attn, 1).numpy()
    return Decoded(ids_np, att, total.numpy(), tuple(task.tgt_vocab.decode(r) for r in ids_np))


@dataclass(frozen=True)
class Hypothesis:
    tokens: tuple[int, ...]      # chosen ids (EOS last when finished)
    score: float                 # Σ log p of the tokens
    finished: bool               # ended with EOS (else cut at max_len)
    attention: tuple = ()        # per step the α over the source (tuples of floats), when the step gives it


def beam_search(step: Callable, state, beam_width: int, max_len: int, *, reorder: Callable | None = None,
                sos: int = SOS, eos: int = EOS) -> list[Hypothesis]:
    r"""Beam search for $\arg\max_y \sum_i \log p(y_i \mid y_{<i}, x)$.

    At every step each of the (at most `beam_width`) live prefixes is extended by every token; the `beam_width`
    best extensions overall (by total log-probability) are kept; an extension ending in `eos` is finished and
    leaves the beam. The search stops when no prefix is live, at `max_len`, or when the best finished
    hypothesis scores at least the best live prefix (log-probabilities are ≤ 0: a live prefix can only lose).
    Width 1 is greedy decoding; a width ≥ V^max_len is exhaustive search.

    Parameters
    ----------
    step : (tokens LongTensor (K,), state) -> (log_probs (K, V), new_state, attention (K, S) or None)
    state : the state of the single start prefix (batch of 1)
    reorder : (state, idx LongTensor (K',)) -> state of the kept prefixes; default: index every tensor of a tuple
        (or the object's ``select``)

    Returns
    -------
    list[Hypothesis], finished (or cut) hypotheses, best first (at most one per kept extension).
    """
    if reorder is None:
        def reorder(s, idx):
            if isinstance(s, tuple):
                return tuple(reorder(x, idx) for x in s)
            if isinstance(s, torch.Tensor):
                return s[idx]
            return s.select(idx)
    alive = [Hypothesis((), 0.0, False)]
    tokens = torch.tensor([sos])
    finished: list[Hypothesis] = []
    for t in range(max_len):
        logp, new_state, alpha = step(tokens, state)
        logp = np.asarray(logp.detach().double() if isinstance(logp, torch.Tensor) else logp, dtype=np.float64)
        cand = np.array([h.score for h in alive])[:, None] + logp            # (K, V)
        V = cand.shape[1]
        order = np.argsort(-cand, axis=None, kind="stable")
        keep, idx = [], []
        for flat in order:
            if len(keep) >= beam_width or not np.isfinite(cand.flat[flat]):
                break
            k, v = divmod(int(flat), V)
            att = alive[k].attention
            if alpha is not None:
                att = att + (tuple(float(a) for a in np.asarray(alpha[k].detach() if isinstance(alpha, torch.Tensor)
                                                                     else alpha[k])),)
            hyp = Hypothesis(alive[k].tokens + (v,), float(cand[k, v]), v == eos, att)
            keep.append(hyp)
            idx.append(k)
        alive, idx_live = [], []
        for hyp, k in zip(keep, idx):
            if hyp.finished or t == max_len - 1:
                finished.append(hyp)
            else:
                alive.append(hyp)
                idx_live.append(k)
        if not alive:
            break
        if finished and max(h.score for h in finished) >= max(h.score for h in alive):
            break
        state = reorder(new_state, torch.tensor(idx_live))
        tokens = torch.tensor([h.tokens[-1] for h in alive])
    return sorted(finished, key=lambda h: -h.score)


def model_step(model: Seq2Seq, memory: Memory) -> Callable:
    """The step function of `model` for `beam_search`; its state is (decoder state, memory)."""
    def step(tokens, state):
        dec_state, mem = state
        with torch.no_grad():
            logits, dec_state, alpha = model.decode_step(tokens, dec_state, mem)
        return _no_specials(logits), (dec_state, mem), alpha
    return step


@dataclass(frozen=True)
class Translation:
    """A reader's source decoded greedily and with beam search."""
    source: str                          # as prepared (seqtasks.Task.prepare)
    reference: str | None                # the exact answer (None when the source has none)
    greedy: Hypothesis
    beams: tuple[Hypothesis, ...]        # best first
    source_tokens: tuple[str, ...]


def translate(model: Seq2Seq, source: str, beam_width: int = 3) -> Translation:
    """Decode one prepared source (see `seqtasks.Task.prepare`) greedily and with beam search of `beam_width`."""
    task = model.task
    src = torch.tensor([task.src_vocab.encode(source)])
    with torch.no_grad():
        memory, dec_state = model.encode(src)
    step = model_step(model, memory)
    max_len = task.max_tgt_len + 1
    greedy_h = beam_search(step, (dec_state, memory), 1, max_len)[0]
    beams = beam_search(step, (dec_state, memory), beam_width, max_len)
    return Translation(source, task.target(source), greedy_h, tuple(beams[:beam_width]), tuple(source))


def hypothesis_text(task: Task, hyp: Hypothesis) -> str:
    return task.tgt_vocab.decode(hyp.tokens)


# ---------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class Evaluation:
    exact: float                 # exact match, greedy free-running decoding
    char: float                  # character accuracy, greedy free-running decoding
    tf_char: float               # character accuracy with teacher forcing (true prefix at every step)
    predictions: tuple[str, ...]


def evaluate(model: Seq2Seq, task: Task, pairs: Sequence[tuple[str, str]]) -> Evaluation:
    """Accuracies on `pairs`: free running (greedy, the model's own previous characters) and teacher-forced."""
    batch = seqtasks.make_batch(task, pairs)
    src = torch.from_numpy(batch.src)
    dec = greedy(model, src)
    with torch.no_grad():
        logits, _ = model(src, torch.from_numpy(batch.tgt_in), teacher_forcing=1.0)
    chars = (batch.tgt_out != PAD) & (batch.tgt_out != EOS)                  # (B, T+1) target characters
    tf_char = float((logits.argmax(-1).numpy() == batch.tgt_out)[chars].mean()) if chars.any() else 0.0
    targets = [t for _, t in pairs]
    return Evaluation(seqtasks.exact_match(dec.texts, targets), seqtasks.char_accuracy(dec.texts, targets),
                      tf_char, dec.texts)


@dataclass(frozen=True)
class Snapshot:
    step: int
    seconds: float                                   # compute time of the generator so far (wall clock)
    metrics: dict[str, float]                        # loss (training, mean since last snapshot), exact, char, tf_char
    state: dict[str, np.ndarray] = field(repr=False)  # the weights now (model_from_state rebuilds the model)
    samples: tuple[tuple[str, str, str], ...] = ()   # (source, target, greedy prediction) of a few held-out pairs


def train(cfg: Seq2SeqConfig, n_samples: int = 4) -> Iterator[Snapshot]:
    """Train `make_model(cfg)` with Adam on fresh random batches of `cfg.task`; a `Snapshot` at step 0 and every
    `cfg.every` updates, evaluated on `seqtasks.validation_set(task, cfg.val_size)`. Deterministic given `cfg`."""
    task = seqtasks.get_task(cfg.task)
    model = make_model(cfg)
    opt = optim.Adam(model.parameters(), lr=cfg.lr)             # = torch.optim.Adam, without importing torch._dynamo
    rng = np.random.default_rng(cfg.seed)
    coins = torch.Generator().manual_seed(cfg.seed + 1)
    val = seqtasks.validation_set(task, cfg.val_size)
    seconds, losses = 0.0, []

    def snapshot(step: int) -> Snapshot:
        model.eval()
        ev = evaluate(model, task, val)
        model.train()
        loss = float(np.mean(losses)) if losses else float("nan")
        metrics = {"loss": loss, "exact": ev.exact, "char": ev.char, "tf_char": ev.tf_char}
        samples = tuple((s, t, p) for (s, t), p in zip(val[:n_samples], ev.predictions[:n_samples]))
        return Snapshot(step, seconds, metrics, model_state(model), samples)

    t0 = time.perf_counter()
    snap = snapshot(0)
    seconds += time.perf_counter() - t0
    yield snap
    for step in range(1, cfg.steps + 1):
        t0 = time.perf_counter()
        batch = seqtasks.make_batch(task, task.sample(rng, cfg.batch_size))
        logits, _ = model(torch.from_numpy(batch.src), torch.from_numpy(batch.tgt_in), cfg.teacher_forcing, coins)
        loss = loss_fn(logits, torch.from_numpy(batch.tgt_out))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        losses.append(float(loss.detach()))
        if step % cfg.every == 0 or step == cfg.steps:
            snap = snapshot(step)
            losses = []
            seconds += time.perf_counter() - t0
            yield snap
        else:
            seconds += time.perf_counter() - t0


def steps_to_target(steps: Sequence[int], values: Sequence[float], target: float = TARGET) -> int | None:
    """The first update whose held-out value reaches `target` (None if none has yet)."""
    for step, v in zip(steps, values):
        if v >= target:
            return int(step)
    return None
