"""Generative › VQ-VAE: quantisation in 2-D you can watch, a VQ-VAE on real digits, posterior collapse.

Three live runs of the shared run object (ui/training.py): the 2-D plane, the digit VQ-VAE and the VAE-vs-VQ-VAE
collapse comparison. Every number comes from engine/generative/vqvae.py."""

import numpy as np
import streamlit as st

from engine.generative import vqvae
from engine.figures.generative import vqvae as figs
from ui import charts
from ui import fmt, formula, labels, show_source, t
from ui import training

st.title(t("vqvae.title"))
st.markdown(t("vqvae.intro"))
formula("vqvae.loss")
formula("vqvae.nearest")
st.markdown(t("vqvae.sign_note"))
formula("vqvae.st")
st.markdown(t("vqvae.sg_note"))
lab = labels("vqvae.labels")


# ------------------------------------------------------------------------------------------------ 1. 2-D
PLANE_EVERY = 20                     # optimiser steps per snapshot of the 2-D run, one snapshot per refresh


def plane_ui() -> vqvae.Config2D:
    c1, c2, c3 = st.columns(3)
    K = c1.slider(t("vqvae.ctl.K"), 1, 64, 16, key="vqvae.K2", bind="query-params")
    beta = c1.slider(t("vqvae.ctl.beta"), 0.0, 5.0, 0.25, 0.05, key="vqvae.beta", bind="query-params")
    update = c2.radio(t("vqvae.ctl.update"), vqvae.UPDATES, format_func=fmt("vqvae.update"), key="vqvae.update2",
                      horizontal=True, bind="query-params")
    estimator = c2.radio(t("vqvae.ctl.estimator"), vqvae.ESTIMATORS, format_func=fmt("vqvae.estimator"),
                         key="vqvae.estimator", horizontal=True, bind="query-params")
    revive = c3.toggle(t("vqvae.ctl.revive"), False, key="vqvae.revive2", bind="query-params")
    batch = c3.select_slider(t("vqvae.ctl.batch"), (2, 8, 32, 128, 512), value=128, key="vqvae.batch2",
                             bind="query-params")
    seed = c3.number_input(t("vqvae.ctl.seed"), 0, 9999, 0, key="vqvae.seed", bind="query-params")
    return vqvae.Config2D(K=K, beta=beta, update=update, estimator=estimator, revive=revive, batch_size=batch,
                          seed=int(seed), snapshot_every=PLANE_EVERY)


def draw_plane(run: training.Run) -> None:
    s = run.snaps["vq"]
    m = s.metrics
    cols = st.columns(5)
    for col, (key, value) in zip(cols, [("step", f"{s.step:,}"), ("rec", f"{m['rec']:.4f}"),
                                        ("perplexity", f"{m['perplexity']:.2f} / {len(s.codebook)}"),
                                        ("dead", f"{m['dead']:.0f}"),
                                        ("speed", f"{s.step / s.seconds:.0f}" if s.seconds > 0 else "–")]):
        col.metric(t(f"vqvae.metric.{key}"), value)
    a, b = st.columns([3, 2])
    charts.live(figs.plot_latent(s, labels=lab), key="vqvae.fig.latent", where=a)
    charts.live(figs.plot_data(s, labels=lab), key="vqvae.fig.data", where=b)
    steps, _ = run.curve("vq", "rec")
    curves = {k: run.curve("vq", k)[1] for k in ("rec", "codebook", "commitment")}
    charts.live(figs.plot_terms(steps, curves, run.curve("vq", "perplexity")[1], len(s.codebook), labels=lab),
                key="vqvae.fig.terms")
    charts.live(figs.plot_usage(s.counts, labels=lab), key="vqvae.fig.usage")


st.header(t("vqvae.plane.header"))
st.markdown(t("vqvae.plane.text"))
cfg2 = plane_ui()
plane = training.start("vqvae", cfg2, lambda c: {"vq": vqvae.train_2d(c)}, name="plane")
# paced to be watched: one snapshot (PLANE_EVERY steps) per refresh, whatever the machine's speed (issue 29: at the
# default budget the 4 000 steps ended in 5–8 s)
training.live(plane, draw_plane, budget_s=0.0)
st.caption(t("vqvae.plane.pace", every=PLANE_EVERY, rate=PLANE_EVERY / training.REFRESH_S,
             total=vqvae.Config2D().max_steps * training.REFRESH_S / PLANE_EVERY))
st.markdown(t("vqvae.plane.look"))
show_source(vqvae.quantize)
show_source(vqvae.ema_update)

# ------------------------------------------------------------------------------------------------ 2. digits
def digits_ui() -> vqvae.ConfigDigits:
    c1, c2, c3 = st.columns(3)
    K = c1.select_slider(t("vqvae.ctl.K"), (8, 16, 32, 64, 128, 256, 512), value=64, key="vqvae.Kd",
                         bind="query-params")
    update = c2.radio(t("vqvae.ctl.update"), vqvae.UPDATES, index=1, format_func=fmt("vqvae.update"),
                      key="vqvae.updated", horizontal=True, bind="query-params")
    revive = c3.toggle(t("vqvae.ctl.revive"), True, key="vqvae.revived", bind="query-params")
    return vqvae.ConfigDigits(K=K, update=update, revive=revive)


def draw_digits(run: training.Run) -> None:
    s = run.snaps["vq"]
    m = s.metrics
    cols = st.columns(4)
    for col, (key, value) in zip(cols, [("step", f"{s.step:,}"), ("test_mse", f"{m['test_mse']:.4f}"),
                                        ("perplexity", f"{m['perplexity']:.1f} / {len(s.counts)}"),
                                        ("dead", f"{m['dead']:.0f}")]):
        col.metric(t(f"vqvae.metric.{key}"), value)
    charts.live(figs.plot_images([s.images, s.recon], labels=lab), key="vqvae.fig.recon")
    steps, mse = run.curve("vq", "test_mse")
    charts.live(figs.plot_digit_curves(steps, mse, run.curve("vq", "perplexity")[1], len(s.counts), labels=lab),
                key="vqvae.fig.dcurves")
    charts.live(figs.plot_usage(s.counts, labels=lab), key="vqvae.fig.dusage")


st.header(t("vqvae.digits.header"))
st.markdown(t("vqvae.digits.text"))
cfgd = digits_ui()
digits = training.start("vqvae", cfgd, lambda c: {"vq": vqvae.train_digits(c)}, name="digits")
training.live(digits, draw_digits)


def edit_ui(snap: vqvae.SnapshotDigits) -> tuple[int, int, int, int]:
    c1, c2, c3, c4 = st.columns(4)
    img = c1.slider(t("vqvae.edit.image"), 0, len(snap.codes) - 1, 0, key="vqvae.edit.img", bind="query-params")
    row = c2.slider(t("vqvae.edit.row"), 0, 6, 3, key="vqvae.edit.row", bind="query-params")
    col = c3.slider(t("vqvae.edit.col"), 0, 6, 3, key="vqvae.edit.col", bind="query-params")
    K = len(snap.counts)
    code = c4.number_input(t("vqvae.edit.code", K=K - 1), 0, K - 1, min(5, K - 1), key=f"vqvae.edit.code.{K}",
                           bind="query-params")
    return img, row, col, int(code)


st.subheader(t("vqvae.edit.header"))
st.markdown(t("vqvae.edit.text"))
snap = digits.snaps["vq"]
img, row, col, code = edit_ui(snap)
grid = snap.codes[img].copy()
before = int(grid[row, col])
edited = grid.copy()
edited[row, col] = code
pics = vqvae.decode_codes(snap, np.stack([grid, edited]))
g1, g2 = st.columns([2, 3])
g1.plotly_chart(figs.plot_code_grid(edited, len(snap.counts), (row, col), labels=lab), key="vqvae.fig.grid")
diff = np.abs(pics[1] - pics[0])
row_imgs = np.stack([pics[0], pics[1], diff / max(float(diff.max()), 1e-6)])    # |difference| scaled to its max
g2.plotly_chart(figs.plot_images([row_imgs], labels=lab, title_key="edit_title", scale=4), key="vqvae.fig.edit")
st.caption(t("vqvae.edit.caption", before=before, after=code, change=float(diff.mean())))

st.subheader(t("vqvae.prior.header"))
st.markdown(t("vqvae.prior.text"))
if st.toggle(t("vqvae.prior.fit"), False, key="vqvae.prior.on", bind="query-params"):
    memo_key = (digits.digest, snap.step)
    memo = st.session_state.get("vqvae.prior.memo")
    if memo is None or memo[0] != memo_key:
        prior = vqvae.fit_prior(vqvae.train_codes(snap), len(snap.counts))
        rng = np.random.default_rng(0)
        grids = {kind: vqvae.sample_grids(prior, 8, kind, rng) for kind in ("uniform", "categorical", "autoregressive")}
        images = {k: vqvae.decode_codes(snap, g) for k, g in grids.items()}
        nll = {k: -np.mean([vqvae.grid_log_prob(prior, c, k) for c in prior.codes[:200].reshape(-1, 7, 7)]) / 49
               for k in grids}
        memo = (memo_key, images, nll)
        st.session_state["vqvae.prior.memo"] = memo
    _, images, nll = memo
    st.plotly_chart(figs.plot_images([images["uniform"], images["categorical"], images["autoregressive"]],
                                     labels=lab, title_key="prior_title"), key="vqvae.fig.prior")
    st.caption(t("vqvae.prior.caption", uni=nll["uniform"], cat=nll["categorical"], ar=nll["autoregressive"]))
    show_source(vqvae.ngram_probs)

# ------------------------------------------------------------------------------------------------ 3. collapse
st.header(t("vqvae.collapse.header"))
st.markdown(t("vqvae.collapse.text"))
formula("vqvae.elbo")
cfgc = vqvae.ConfigCollapse()
collapse = training.start("vqvae", cfgc, lambda c: {m: vqvae.train_collapse(c, m) for m in ("vae", "vqvae")},
                          name="collapse")


def draw_collapse(run: training.Run) -> None:
    v, q = run.snaps["vae"], run.snaps["vqvae"]
    cols = st.columns(4)
    cols[0].metric(t("vqvae.metric.vae_kl"), f"{v.metrics['kl']:.2f}")
    cols[1].metric(t("vqvae.metric.vae_active"), f"{v.metrics['active']:.0f} / {len(v.kl_per_dim)}")
    cols[2].metric(t("vqvae.metric.vq_perp"), f"{q.metrics['perplexity']:.1f} / {len(q.counts)}")
    cols[3].metric(t("vqvae.metric.nll"), f"{v.metrics['nll']:.1f} · {q.metrics['nll']:.1f}")
    steps = {k: run.curve(k, "nll")[0] for k in ("vae", "vqvae")}
    charts.live(figs.plot_collapse(steps, run.curve("vae", "kl")[1], run.curve("vqvae", "perplexity")[1], v,
                                   len(q.counts), labels=lab), key="vqvae.fig.collapse")


training.live(collapse, draw_collapse)
st.markdown(t("vqvae.collapse.look"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("vqvae")
