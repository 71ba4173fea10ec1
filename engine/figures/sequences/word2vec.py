"""Figures of the word-embeddings chapter: the training curves (loss, held-out pair accuracy), the 2-D map of the
embedding space, subsampling's keep probability and the noise distribution. Plotly only, SVG traces."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.sequences import word2vec as W

COLORS = {"skipgram": "#636efa", "cbow": "#ef553b", "neg": "#00cc96", "softmax": "#ab63fa"}
MAX_POINTS = 250


def _r(a, digits: int = 4) -> list:
    return [float(f"{v:.{digits}g}") if np.isfinite(v) else None for v in np.asarray(a, dtype=float).ravel()]


def _every(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, MAX_POINTS)).round().astype(int)) if n else np.zeros(0, int)


def plot_training(snaps: dict[str, W.W2VSnapshot], labels: dict, x: str = "epoch") -> go.Figure:
    """Two panels: mean loss per example and the held-out pair accuracy (with the target) against epochs (passes
    over the text: the shared axis of skip-gram and CBOW, whose updates hold different examples) or updates
    (`x="step"`)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["loss_title"], labels["acc_title"]))
    for name, s in snaps.items():
        idx = _every(len(s.steps))
        xs = s.steps[idx] if x == "step" else s.steps[idx] / s.per_epoch
        fig.add_trace(go.Scatter(x=_r(xs, 6), y=_r(s.train_loss[idx], 4), mode="lines", name=labels[name],
                                 line=dict(color=COLORS[name]), legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=_r(xs, 6), y=_r(s.pair_acc[idx], 4), mode="lines", name=labels[name],
                                 showlegend=False, line=dict(color=COLORS[name]), legendgroup=name), 1, 2)
    fig.add_hline(y=W.TARGET_PAIR_ACC, line=dict(dash="dash", color="grey"), row=1, col=2,
                  annotation_text=labels["target"], annotation_position="bottom right")
    fig.add_hline(y=0.5, line=dict(dash="dot", color="lightgrey"), row=1, col=2)
    fig.update_xaxes(title_text=labels["step"] if x == "step" else labels["epoch"])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def plot_map(proj: W.Projection, words: list[str], highlight: set[str], labels: dict) -> go.Figure:
    """The drawn words on the first two principal axes of their (unit) embeddings; the reader's words in red."""
    hi = np.array([w in highlight for w in words], dtype=bool)
    fig = go.Figure()
    for mask, colour, size, name in ((~hi, "#636efa", 7, labels["map_words"]), (hi, "#d62728", 11,
                                                                                  labels["your_words"])):
        if mask.any():
            fig.add_trace(go.Scatter(x=_r(proj.xy[mask, 0], 3), y=_r(proj.xy[mask, 1], 3), mode="markers+text",
                                     text=[w for w, m in zip(words, mask) if m], textposition="top center",
                                     marker=dict(color=colour, size=size), name=name,
                                     hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=40, b=10), title=dict(text=labels["map_title"], x=0.02),
                      legend=dict(orientation="h", x=1, xanchor="right", y=1.0, yanchor="bottom"),
                      xaxis=dict(title=labels["pc"].format(n=1, share=f"{100 * proj.explained[0]:.0f}"),
                                 zeroline=False, range=[-1.05, 1.05]),
                      yaxis=dict(title=labels["pc"].format(n=2, share=f"{100 * proj.explained[1]:.0f}"),
                                 zeroline=False, range=[-1.05, 1.05]))
    return fig


def plot_subsampling(c: W.Corpus, sample: float, labels: dict) -> go.Figure:
    """Keep probability against relative frequency f (log x): word2vec.c/gensim's √(t/f) + t/f, the paper's
    1 − (1 − √(t/f)), and every word of the vocabulary as a dot on the code's curve."""
    f_words = c.counts / c.counts.sum()
    f = np.logspace(np.log10(f_words.min()) - 0.3, 0, 120)
    keep_code = W.keep_given_frequency(f, sample)
    keep_paper = 1 - W.discard_given_frequency_paper(f, sample)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=_r(f, 3), y=_r(keep_code, 3), mode="lines", name=labels["keep_code"]))
    fig.add_trace(go.Scatter(x=_r(f, 3), y=_r(keep_paper, 3), mode="lines", name=labels["keep_paper"],
                             line=dict(dash="dash")))
    keep = W.keep_probability(c.counts, sample)
    top = np.arange(min(400, len(c.words)))
    fig.add_trace(go.Scatter(x=_r(f_words[top], 3), y=_r(keep[top], 3), mode="markers", name=labels["vocab"],
                             text=[c.words[i] for i in top], marker=dict(size=5, color="#444"),
                             hovertemplate="%{text}: f = %{x}, P = %{y}<extra></extra>"))
    fig.add_vline(x=sample, line=dict(dash="dot", color="grey"), annotation_text="t")
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), title=labels["sub_title"],
                      xaxis=dict(type="log", title="f(w)"), yaxis=dict(title=labels["p_keep"], range=[0, 1.05]),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def plot_noise(c: W.Corpus, power: float, labels: dict, n: int = 15) -> go.Figure:
    """P_n of the `n` most frequent words and of a few rare ones: unigram vs count^power."""
    idx = list(range(min(n, len(c.words)))) + list(range(max(n, len(c.words) - 5), len(c.words)))
    p1 = W.noise_distribution(c.counts, 1.0)[idx]
    pa = W.noise_distribution(c.counts, power)[idx]
    words = [c.words[i] for i in idx]
    fig = go.Figure([go.Bar(x=words, y=_r(p1, 3), name=labels["unigram"]),
                     go.Bar(x=words, y=_r(pa, 3), name=labels["noise"].format(alpha=power))])
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), title=labels["noise_title"], barmode="group",
                      yaxis=dict(type="log", title="P"), legend=dict(orientation="h", y=-0.3))
    return fig
