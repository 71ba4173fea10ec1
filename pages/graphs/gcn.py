"""Graphs › GCN: the graph Fourier basis, spectral filters, ChebNet, Kipf & Welling's GCN trained live on the karate
club, and the spatial view. Every number comes from engine/graphs/gcn.py."""

import hashlib

import numpy as np
import streamlit as st

from engine.common import text as typed
from engine.graphs import gcn
from engine.figures.graphs import gcn as figs
from ui import fmt, formula, labels, show_source, t
from ui import charts, training

MAX_UPLOAD = 2_000_000   # bytes of CSV, checked before decoding

st.title(t("gcn.title"))
st.markdown(t("gcn.intro"))
lab = labels("gcn.labels")


@st.cache_resource(max_entries=6, show_spinner=False)
def graph_and_spectrum(name: str, digest: str, data: bytes | None = None):
    """The graph and its Laplacian's eigendecomposition, once per graph per process (U is read-only)."""
    g = gcn.parse_edge_list(typed.decode(data)) if name == "upload" else gcn.load(name)
    spec = gcn.spectrum(g)
    spec.U.setflags(write=False)
    return g, spec


def graph_ui():
    """Sidebar: which graph (and the upload). Returns (graph, spectrum) or None with an error shown."""
    with st.sidebar:
        st.subheader(t("gcn.controls.header"))
        name = st.selectbox(t("gcn.controls.graph"), gcn.GRAPHS, format_func=fmt("gcn.graph"), key="gcn.graph",
                            bind="query-params")
    if name != "upload":
        with st.spinner(t("gcn.eig_spinner")):
            return graph_and_spectrum(name, "")
    st.markdown(t("gcn.upload_text", edges=gcn.MAX_EDGES, nodes=gcn.MAX_NODES))
    up = st.file_uploader(t("gcn.controls.csv", mb=MAX_UPLOAD / 1e6), type=["csv", "txt"], key="gcn.csv")
    data = up.getvalue() if up is not None else b"0,1\n1,2\n2,0\n2,3\n3,4\n4,5\n5,3\n"
    if up is None:
        st.caption(t("gcn.upload_default"))
    if len(data) > MAX_UPLOAD:
        st.error(t("gcn.csv_too_big", mb=MAX_UPLOAD / 1e6))
        return None
    try:
        with st.spinner(t("gcn.eig_spinner")):
            return graph_and_spectrum("upload", hashlib.blake2b(data, digest_size=16).hexdigest(), data)
    except gcn.GraphError as err:
        st.error(t("gcn.csv_error", detail=t(f"gcn.csv.{err.code}", **err.params)))
        return None


def clicked_nodes() -> set[int]:
    """Nodes selected (click, box or lasso) on the signal drawing while painting."""
    state = st.session_state.get("gcn.fig_paint")
    points = (state or {}).get("selection", {}).get("points", []) if isinstance(state, dict) else []
    return {int(p["customdata"]) for p in points if isinstance(p.get("customdata"), (int, float))}


def signal_ui(g: gcn.Graph) -> dict:
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox(t("gcn.controls.signal"), gcn.SIGNALS, format_func=fmt("gcn.signal"), key="gcn.signal",
                        bind="query-params")
    node = int(c1.number_input(t("gcn.controls.node"), 0, g.N - 1, 0, key="gcn.node",
                               bind="query-params"))
    painted = ()
    if kind == "painted":
        picked = c1.multiselect(t("gcn.controls.paint"), list(range(g.N)), default=[0, 1, 2], key="gcn.paint",
                                bind="query-params")
        painted = tuple(sorted(set(picked) | clicked_nodes()))
    filt = c2.selectbox(t("gcn.controls.filter"), gcn.FILTERS, format_func=fmt("gcn.filter"), key="gcn.filter",
                        bind="query-params")
    if filt == "heat":
        param = c2.slider(t("gcn.controls.tau"), 0.5, 50.0, 5.0, 0.5, key="gcn.tau", bind="query-params")
    else:
        param = c2.slider(t("gcn.controls.cutoff"), 0.05, 2.0, 0.3, 0.05, key="gcn.cutoff", bind="query-params")
    K = c3.slider(t("gcn.controls.K"), 1, 30, 5, key="gcn.K", bind="query-params")
    return dict(kind=kind, node=node, painted=painted, filt=filt, param=float(param), K=int(K))


loaded = graph_ui()
if loaded is None:
    st.stop()
g, spec = loaded
st.caption(t("gcn.graph_info", n=g.N, e=g.E, lmax=spec.lmax, secs=spec.seconds))
for reason, count in g.notes:
    st.warning(t(f"gcn.note.{reason}", n=count))
if g.issues:                      # the lines the loader skipped, each with its number and why
    shown = [t("gcn.issues.line", line=line, reason=t(f"gcn.issues.{why}"), text=raw.replace("`", "'"))
             for line, why, raw in g.issues[:8]]
    more = [t("gcn.issues.more", n=len(g.issues) - 8)] if len(g.issues) > 8 else []
    st.warning("\n".join([t("gcn.issues.header", n=len(g.issues))] + [f"- {s}" for s in shown] + more))
if g.node_ids and list(g.node_ids) != list(range(g.N)):   # the reader's ids → the numbers 0 … N−1 used below
    numeric = all(isinstance(i, int) for i in g.node_ids)
    pairs = ", ".join(f"{k} = {str(v)[:30]}" for k, v in list(enumerate(g.node_ids))[:6])
    st.caption(t("gcn.ids_sorted" if numeric else "gcn.ids_first_seen", pairs=pairs, n=g.N - 1))

# ---- 1. the graph Fourier basis
st.header(t("gcn.fourier.header"))
st.markdown(t("gcn.fourier.text"))
formula("gcn.laplacian")
formula("gcn.conv_theorem")
which = sorted({0, 1, 2, 3, g.N // 2, g.N - 3, g.N - 2, g.N - 1} & set(range(g.N)))
st.plotly_chart(figs.plot_eigvecs(g, spec, which, labels=lab), key="gcn.fig_eig")
p = signal_ui(g)
x = gcn.signal(g, spec, p["kind"], node=p["node"], painted=p["painted"])
filt = gcn.spectral_filter(spec, x, p["filt"], p["param"])
vmax = float(np.abs(x).max()) or 1.0
c1, c2 = st.columns(2)
if p["kind"] == "painted" and g.N <= figs.VECTOR_MAX and g.name != "grid":
    c1.plotly_chart(figs.plot_signal(g, x, lab["signal"], lab, vmax=vmax), key="gcn.fig_paint", on_select="rerun",
                    selection_mode=("points", "box", "lasso"))
    c1.caption(t("gcn.paint_hint"))
else:
    c1.plotly_chart(figs.plot_signal(g, x, lab["signal"], lab, vmax=vmax), key="gcn.fig_x")
c2.plotly_chart(figs.plot_signal(g, filt.y, lab["filtered"], lab, vmax=vmax), key="gcn.fig_y")
st.plotly_chart(figs.plot_spectrum(filt, spec.lam, labels=lab), key="gcn.fig_spec")
st.markdown(t("gcn.fourier.smoothness", sx=filt.smoothness_x, sy=filt.smoothness_y))

# ---- 2. ChebNet
st.header(t("gcn.cheb.header"))
st.markdown(t("gcn.cheb.text"))
formula("gcn.cheb_formula")
cheb = gcn.chebyshev(g, spec, x, p["filt"], p["param"], p["K"])
c1, c2 = st.columns(2)
c1.plotly_chart(figs.plot_cheb(cheb, labels=lab), key="gcn.fig_cheb")
c2.plotly_chart(figs.plot_signal(g, cheb.y_cheb, lab["cheb_signal"], lab, vmax=vmax), key="gcn.fig_ycheb")
st.markdown(t("gcn.cheb.error", K=cheb.K, err=cheb.rel_error))
st.markdown(t("gcn.cheb.cost", n=g.N, e=g.E, K=cheb.K, eig=spec.seconds, cheb=cheb.cheb_seconds * 1e3,
              apply=cheb.apply_u_seconds * 1e3))
spread = gcn.impulse_spread(g, p["node"], p["K"], spec.lmax)
c1, c2 = st.columns([3, 2])
c1.plotly_chart(figs.plot_spread(g, spread, labels=lab), key="gcn.fig_spread")
c2.markdown(t("gcn.cheb.spread", node=spread.node, hops=", ".join(str(int(h)) for h in spread.max_hop)))
st.markdown(t("gcn.cheb.lmax", lmax=spec.lmax))

# ---- 3. GCN trained live on the karate club
st.header(t("gcn.train.header"))
st.markdown(t("gcn.train.text"))
formula("gcn.gcn_k1")
formula("gcn.renorm")
kg, _ = graph_and_spectrum("karate", "")


def train_ui() -> gcn.GCNConfig:
    c1, c2 = st.columns(2)
    lr = c1.select_slider(t("gcn.controls.lr"), (0.005, 0.01, 0.02, 0.05), value=0.02, key="gcn.lr",
                          bind="query-params")
    seed = c2.number_input(t("gcn.controls.seed"), 0, 9999, 0, key="gcn.seed", bind="query-params")
    return gcn.GCNConfig(lr=float(lr), seed=int(seed))


def make(cfg: gcn.GCNConfig) -> dict:
    return {"gcn": gcn.train_gcn(kg, cfg)}


def draw(run: training.Run) -> None:
    s = run.snaps["gcn"]
    c1, c2 = st.columns(2)
    charts.live(figs.plot_embedding(kg, s, run.config.labelled, labels=lab), key="gcn.fig_emb", where=c1)
    charts.live(figs.plot_signal(kg, 2.0 * s.pred - 1, lab["pred_title"], lab, colorbar=False),
                key="gcn.fig_pred", where=c2)
    steps, loss = run.curve("gcn", "loss")
    _, acc = run.curve("gcn", "acc")
    charts.live(figs.plot_curves(steps, loss, acc, labels=lab), key="gcn.fig_curves")
    st.markdown(t("gcn.train.status", step=s.step, acc=100 * s.acc_unlabelled, n=kg.N - len(run.config.labelled),
                  secs=s.seconds))


run = training.start("gcn", train_ui(), make)
training.live(run, draw, budget_s=0.0)   # one snapshot (5 steps) per refresh: 200 steps in ~20 s, to be watched

# ---- 4. the spatial view
st.header(t("gcn.spatial.header"))
st.markdown(t("gcn.spatial.text"))
formula("gcn.mean_example")
conv = gcn.conv1d_example()
st.markdown(t("gcn.spatial.conv_text"))
formula("gcn.conv_def")
st.markdown("\n".join(t("gcn.spatial.conv_line", m=m, terms=" + ".join(f"{f:g} × {w}" for f, w, _ in terms),
                        y=conv.y[m]) for m, terms in conv.terms))
st.markdown(t("gcn.spatial.conv_fix"))
st.markdown(t("gcn.spatial.sage"))
formula("gcn.sage")
avg = gcn.mean_aggregate(g.A, x)
st.plotly_chart(figs.plot_signal(g, avg, lab["avg_title"], lab, vmax=vmax), key="gcn.fig_avg")
st.markdown(t("gcn.refs"))
show_source(gcn.cheb_filter)
show_source(gcn.train_gcn)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("gcn")
