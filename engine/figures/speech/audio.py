"""Plotly figures for the Spectrogram & MFCC chapter. Pure functions: engine results in, go.Figure out.

Labels come in as arguments (already translated by the page), so these stay free of Streamlit.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.speech.audio import DFTTiming, Features, hz_to_mel
from engine.figures.common import MAGMA, heat_ranges, heat_traces

HEIGHT = 300

MAX_POINTS = 1600   # waveform points sent to the browser (≈ the plot's pixel width × 2: min and max per pixel)
MAX_LINE = 1024     # points of a frame or a spectrum line (n_fft up to 4096 is thinned by a whole factor)


def _figure(traces: list, *, x: str, y: str, height: int = HEIGHT, shapes: list | None = None,
            **layout) -> go.Figure:
    """One figure built in one pass: plotly validates the whole layout once (each later update_layout or
    add_vline would validate again, which dominated the page's rerun time)."""
    base = dict(height=height, margin=dict(l=60, r=20, t=30, b=45), legend=dict(orientation="h", y=1.12, x=0),
                xaxis=dict(title=dict(text=x)), yaxis=dict(title=dict(text=y)), shapes=shapes or [])
    for key, value in layout.items():
        base[key] = {**base[key], **value} if isinstance(base.get(key), dict) else value
    return go.Figure(data=traces, layout=base)


def _vline(x: float) -> dict:
    """A dotted vertical marker across the plot (the selected frame)."""
    return dict(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line=dict(color="cyan", width=1, dash="dot"))


def plot_waveform(y: np.ndarray, sr: int, *, span: tuple[float, float] | None = None,
                  labels: dict[str, str]) -> go.Figure:
    """Waveform over time; ``span`` (s) shades the selected frame. Long clips are drawn as a min/max envelope."""
    n = len(y)
    if n > MAX_POINTS:
        hop = int(np.ceil(n / (MAX_POINTS // 2)))
        blocks = np.pad(y, (0, (-n) % hop)).reshape(-1, hop)                 # (B, hop)
        t = np.repeat(np.arange(blocks.shape[0]) * hop / sr, 2)
        v = np.stack([blocks.min(1), blocks.max(1)], axis=1).ravel()          # min, max per block
    else:
        t, v = np.arange(n) / sr, y
    t, v = np.round(t, 5), np.round(v, 4)                                      # what a pixel can show
    trace = go.Scatter(x=t, y=v, mode="lines", line=dict(width=1), name=labels["amplitude"],
                       hovertemplate="%{x:.4f} s<br>%{y:.4f}<extra></extra>")
    shapes = [] if span is None else [dict(type="rect", x0=span[0], x1=span[1], y0=0, y1=1, yref="paper",
                                           fillcolor="orange", opacity=0.3, line_width=0)]
    return _figure([trace], x=labels["time"], y=labels["amplitude"], height=220, shapes=shapes)


def plot_frame(samples: np.ndarray, window: np.ndarray, sr: int, *, labels: dict[str, str]) -> go.Figure:
    """One frame before and after windowing, with the window itself (scaled to the frame's peak)."""
    k = max(1, len(samples) // MAX_LINE)            # at most MAX_LINE points: what the plot's width can show
    t = dict(x0=0.0, dx=1000 * k / sr)              # evenly spaced samples: no x array to send
    peak = float(np.max(np.abs(samples))) or 1.0
    samples, window = samples[::k], window[::k]
    r = lambda a: np.round(a, 4)   # noqa: E731 — numbers rounded to what the plot can show
    return _figure([
        go.Scatter(**t, y=r(samples), name=labels["raw"], line=dict(width=1, color="#9aa5b1"),
                   hovertemplate="%{x:.2f} ms<br>%{y:.4f}<extra></extra>"),
        go.Scatter(**t, y=r(window * peak), name=labels["window"], line=dict(dash="dash", color="#E4572E")),
        go.Scatter(**t, y=r(samples * window), name=labels["windowed"], line=dict(width=1.5, color="#1f77b4"),
                   hovertemplate="%{x:.2f} ms<br>%{y:.4f}<extra></extra>"),
    ], x=labels["time_ms"], y=labels["amplitude"])


def plot_dft(freqs: np.ndarray, naive: np.ndarray, fast: np.ndarray, *, labels: dict[str, str]) -> go.Figure:
    """|X[k]| of one frame in dB: the naive DFT (markers) lies exactly on the FFT (line)."""
    def db(z):
        return np.round(20 * np.log10(np.maximum(np.abs(z), 1e-10)), 2)
    k = max(1, len(freqs) // MAX_LINE)
    freqs, naive, fast = np.round(freqs[::k], 1), naive[::k], fast[::k]
    step = max(1, len(freqs) // 256)   # markers would hide the line if every bin had one
    return _figure([
        go.Scatter(x0=float(freqs[0]), dx=float(freqs[1] - freqs[0]) if len(freqs) > 1 else 1.0, y=db(fast),
                   name=labels["fft"], line=dict(color="#1f77b4"),
                   hovertemplate="%{x:.0f} Hz<br>%{y:.2f} dB<extra>FFT</extra>"),
        go.Scatter(x=freqs[::step], y=db(naive)[::step], name=labels["naive"], mode="markers",
                   marker=dict(size=5, color="#E4572E", symbol="circle-open"),
                   hovertemplate="%{x:.0f} Hz<br>%{y:.2f} dB<extra>naive</extra>"),
    ], x=labels["freq"], y=labels["magnitude_db"])


def plot_dft_timing(timing: DFTTiming, *, labels: dict[str, str]) -> go.Figure:
    """Seconds per transform vs N on log–log axes, with N² and N log N guides through the first point."""
    n = timing.n.astype(float)
    return _figure([
        go.Scatter(x=n, y=timing.naive_s * 1e3, name=labels["naive"], mode="lines+markers",
                   hovertemplate="N=%{x}<br>%{y:.4f} ms<extra></extra>"),
        go.Scatter(x=n, y=timing.fft_s * 1e3, name=labels["fft"], mode="lines+markers",
                   hovertemplate="N=%{x}<br>%{y:.4f} ms<extra></extra>"),
        go.Scatter(x=n, y=timing.naive_s[0] * 1e3 * (n / n[0]) ** 2, name="∝ N²", mode="lines",
                   line=dict(dash="dot", color="gray")),
        go.Scatter(x=n, y=timing.fft_s[0] * 1e3 * (n * np.log2(n)) / (n[0] * np.log2(n[0])), name="∝ N log N",
                   mode="lines", line=dict(dash="dash", color="gray")),
    ], x="N", y=labels["ms"], xaxis=dict(type="log", dtick=1), yaxis=dict(type="log", dtick=1))


def _heatmap(z: np.ndarray, x: np.ndarray, y: np.ndarray, *, colorbar: str, hover_y: str, ylabel: str,
             xlabel: str, colorscale: str | list = MAGMA, zmin: float | None = None, zmax: float | None = None,
             frame_time: float | None = None, title: str | None = None, customdata: np.ndarray | None = None
             ) -> go.Figure:
    """A time × bins heatmap as a JPEG of its colours plus a coarse hover grid (engine/figures/common.py)."""
    zmin = float(np.nanmin(z)) if zmin is None else zmin
    zmax = float(np.nanmax(z)) if zmax is None else zmax
    traces, images = heat_traces(z, x, y, colorscale=colorscale, quality=75, zmin=zmin, zmax=zmax, customdata=customdata,
                         colorbar=dict(title=dict(text=colorbar)),
                         hovertemplate=f"%{{x:.3f}} s<br>{hover_y}<br>%{{z:.1f}}<extra></extra>")
    extra = {} if title is None else dict(title=dict(text=title, font=dict(size=13)), margin=dict(t=40))
    ranges = heat_ranges(x, y)
    return _figure(traces, x=xlabel, y=ylabel, shapes=[] if frame_time is None else [_vline(frame_time)],
                   xaxis=ranges["xaxis"], yaxis=ranges["yaxis"], images=images, **extra)


def plot_spectrogram(f: Features, *, frame: int | None = None, labels: dict[str, str]) -> go.Figure:
    """STFT power in dB (80 dB floor) over time and frequency."""
    return _heatmap(f.power_db, f.times, f.freqs, colorbar="dB", hover_y="%{y:.0f} Hz", ylabel=labels["freq"],
                    xlabel=labels["time"], frame_time=None if frame is None else f.times[frame])


def plot_mel_scale(sr: int, *, htk: bool, labels: dict[str, str]) -> go.Figure:
    """The mel scale: HTK 2595·log10(1 + f/700) and Slaney's linear/log curve, the chosen one solid."""
    hz = np.linspace(0, sr / 2, 400)
    return _figure([
        go.Scatter(x=hz, y=hz_to_mel(hz, htk=True), name="HTK: 2595·log10(1+f/700)",
                   line=dict(dash=None if htk else "dot"), hovertemplate="%{x:.0f} Hz → %{y:.1f} mel<extra></extra>"),
        go.Scatter(x=hz, y=hz_to_mel(hz, htk=False) * (hz_to_mel(sr / 2, htk=True) / hz_to_mel(sr / 2, htk=False)),
                   name=labels["slaney_scaled"], line=dict(dash="dot" if htk else None),
                   hovertemplate="%{x:.0f} Hz<extra>Slaney</extra>"),
    ], x=labels["freq"], y="mel")


def filterbank_step(n_mels: int) -> int:
    """Draw every step-th filter: at most ~40 triangles, so the figure stays light and readable."""
    return max(1, n_mels // 40)


def plot_filterbank(f: Features, frame: int, *, labels: dict[str, str]) -> go.Figure:
    """The mel triangles over the selected frame's power spectrum (dB on a second axis).

    All triangles are one trace, separated by gaps: one trace per filter would make the figure slow to build."""
    fb = f.filterbank
    step = filterbank_step(fb.shape[0])
    xs, ys, bands = [], [], []
    for i in range(0, fb.shape[0], step):
        nz = np.nonzero(fb[i])[0]
        if nz.size == 0:
            continue
        lo, hi = max(nz[0] - 1, 0), min(nz[-1] + 2, fb.shape[1])
        # a triangle is piecewise linear: its ends, its peak and ≤ 12 bins in between draw it exactly enough
        keep = np.unique(np.r_[np.linspace(lo, hi - 1, min(12, hi - lo)).round().astype(int),
                               lo + np.argmax(fb[i, lo:hi])])
        xs += [np.round(f.freqs[keep], 1), [np.nan]]
        ys += [fb[i, keep].round(6), [np.nan]]
        bands += [np.full(len(keep) + 1, i)]
    return _figure([
        go.Scatter(x=np.concatenate(xs), y=np.concatenate(ys), customdata=np.concatenate(bands), mode="lines",
                   name=labels["weight"], line=dict(width=1, color="#E4572E"),
                   hovertemplate="mel band %{customdata}<br>%{x:.0f} Hz<br>weight %{y:.2e}<extra></extra>"),
        go.Scatter(x0=0.0, dx=float(f.freqs[1] - f.freqs[0]) * max(1, len(f.freqs) // MAX_LINE),
                   y=np.round(f.power_db[::max(1, len(f.freqs) // MAX_LINE), frame], 2), name=labels["spectrum"],
                   yaxis="y2",
                   line=dict(color="#9aa5b1", width=1), hovertemplate="%{x:.0f} Hz<br>%{y:.1f} dB<extra></extra>"),
    ], x=labels["freq"], y=labels["weight"],
        # tickmode "auto": Streamlit's theme syncs an overlaying axis's ticks to the left one (odd dB values, peaks cut)
        yaxis2=dict(title=dict(text="dB"), overlaying="y", side="right", showgrid=False, tickmode="auto"))


def plot_log_mel(f: Features, *, frame: int | None = None, labels: dict[str, str]) -> go.Figure:
    """Log-mel spectrogram: mel bands (centre Hz on hover) over time."""
    return _heatmap(f.log_mel, f.times, np.arange(f.log_mel.shape[0]), colorbar="dB",
                    hover_y="band %{y:.0f} (%{customdata:.0f} Hz)", ylabel=labels["mel_band"], xlabel=labels["time"],
                    frame_time=None if frame is None else f.times[frame],
                    customdata=np.broadcast_to(f.mel_freqs[:, None], f.log_mel.shape).round(0))


MFCC_CLIP = 0.97   # the c₁… colour scale ends at this quantile of |c₁…|: a few large c₁ values must not wash out the rest


def mfcc_colour_limit(mfcc: np.ndarray) -> float:
    """The symmetric colour range ±lim of the c₁… heatmap: the MFCC_CLIP quantile of |c₁…| (c₀ excluded)."""
    rest = np.abs(np.asarray(mfcc[1:], dtype=np.float64))
    return float(np.quantile(rest, MFCC_CLIP)) if rest.size and rest.max() > 0 else 1.0


def plot_mfcc(f: Features, *, frame: int | None = None, labels: dict[str, str]) -> go.Figure:
    """c₀ on its own strip (a line over time, on top), and c₁, c₂, … as a heatmap below it in diverging colours
    symmetric about 0 (the sign matters). c₀ = √M · mean of the log-mel column, the frame's overall loudness, is ten
    times larger than the rest: in the same colours it would swamp them."""
    c0, rest = f.mfcc[0], f.mfcc[1:]                                        # (T,), (n_mfcc − 1, T)
    lim = mfcc_colour_limit(f.mfcc)
    strip = go.Scatter(x=np.round(f.times, 4), y=np.round(c0, 2), yaxis="y2", mode="lines", name="c₀",
                       line=dict(color="#444", width=1.2), showlegend=False,
                       hovertemplate="%{x:.3f} s<br>c₀ = %{y:.1f}<extra></extra>")
    if rest.shape[0] == 0:                                                  # n_mfcc = 1: the strip alone
        return _figure([strip], x=labels["time"], y="", yaxis2=dict(domain=[0, 1], anchor="x",
                                                                     title=dict(text=labels["c0"])))
    rows = np.arange(1, f.mfcc.shape[0])
    traces, images = heat_traces(rest, f.times, rows, colorscale="RdBu_r", quality=75, zmin=-lim, zmax=lim,
                                 colorbar=dict(title=dict(text=""), len=0.7, y=0, yanchor="bottom"),
                                 hovertemplate="%{x:.3f} s<br>c%{y:.0f}<br>%{z:.1f}<extra></extra>")
    ranges = heat_ranges(f.times, rows)
    return _figure([*traces, strip], x=labels["time"], y=labels["coef"], height=380,
                   shapes=[] if frame is None else [_vline(f.times[frame])],
                   xaxis=ranges["xaxis"], yaxis={**ranges["yaxis"], "domain": [0, 0.7]}, images=images,
                   yaxis2=dict(domain=[0.76, 1], anchor="x", title=dict(text=labels["c0"]), showgrid=True))


def plot_reconstruction(f: Features, *, residual: bool = False, labels: dict[str, str]) -> go.Figure:
    """Log-mel rebuilt from the first k MFCCs (same colour range as the original), or what it lost:
    the residual original − rebuilt, in diverging colours."""
    bands = np.arange(f.reconstruction.shape[0])
    if residual:
        z = f.log_mel - f.reconstruction
        lim = float(np.abs(z).max()) or 1.0
        return _heatmap(z, f.times, bands, colorbar="dB", hover_y="band %{y}", ylabel=labels["mel_band"],
                        xlabel=labels["time"], colorscale="RdBu_r", zmin=-lim, zmax=lim,
                        title=labels["residual"])
    return _heatmap(f.reconstruction, f.times, bands, colorbar="dB", hover_y="band %{y}", ylabel=labels["mel_band"],
                    xlabel=labels["time"], zmin=float(f.log_mel.min()), zmax=float(f.log_mel.max()),
                    title=labels["rebuilt"])


def plot_envelope(f: Features, frame: int, *, labels: dict[str, str]) -> go.Figure:
    """One frame across mel bands: the log-mel (fine detail) vs its k-coefficient reconstruction (envelope)."""
    bands = np.arange(f.log_mel.shape[0])
    return _figure([
        go.Scatter(x=bands, y=f.log_mel[:, frame], name=labels["original"], line=dict(color="#9aa5b1"),
                   customdata=f.mel_freqs, hovertemplate="band %{x} (%{customdata:.0f} Hz)<br>%{y:.2f} dB"
                                                         "<extra></extra>"),
        go.Scatter(x=bands, y=f.reconstruction[:, frame], name=labels["rebuilt"], line=dict(color="#E4572E"),
                   customdata=f.mel_freqs, hovertemplate="band %{x} (%{customdata:.0f} Hz)<br>%{y:.2f} dB"
                                                         "<extra></extra>"),
    ], x=labels["mel_band"], y="dB")
