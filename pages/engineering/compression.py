"""Engineering › Model compression: magnitude pruning, int8 post-training quantisation and knowledge distillation on
an MLP trained on real digits (engine/engineering/compression.py; the distillation trains live through the run
object ui/training.py)."""
if __name__ != "__main__":
    # Streamlit runs a page as __main__ with the page's folder on sys.path, so `import compression` (tifffile, under
    # skimage.io, tries Python 3.14's stdlib `from compression import zstd`) would find this file and run the page a
    # second time inside the first: refuse to be imported, which tifffile takes as "no zstd".
    raise ImportError("pages/engineering/compression.py is a Streamlit page, not the module `compression`")

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from engine.engineering import compression as C  # noqa: E402
from engine.figures.common import sci_tex, si  # noqa: E402
from engine.figures.engineering import compression as figs  # noqa: E402
from ui import charts, fmt, formula, image_input_ui, labels, show_source, t  # noqa: E402
from ui import training, warm  # noqa: E402
from ui.models import imagenet_categories, imagenet_names_note, mobilenet_or_error  # noqa: E402

K = "compression"
AMOUNTS = C.AMOUNTS[1:]                  # the slider's shares (0 would show nothing pruned)
TEMPS = (1.0, 2.0, 4.0, 8.0, 16.0)
HIDDEN = (8, 16, 32, 64)
N_TRAIN = (100, 300, 1000, 4000)
LAYERS = (1, 2, 3)
MB_AMOUNTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


@st.cache_data(max_entries=1, show_spinner=False)
def base_info(seed: int = 0) -> tuple[float, int]:
    _, _, x_te, y_te = C.digits_data(seed)
    net = C.trained_mlp(seed)
    return C.accuracy(net, x_te, y_te), C.param_count(net)


@st.cache_data(max_entries=2, show_spinner=False)
def curve(seed: int = 0) -> C.SparsityCurve:
    return C.sparsity_curve(seed)


@st.cache_data(max_entries=16, show_spinner=False)
def layer_masks(seed: int, layer: int, amount: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(w, unstructured mask, structured mask, threshold) of one layer (the output layer keeps its rows)."""
    w = C.trained_weights(seed)[2 * (layer - 1)]
    s = C.ln_structured_mask(w, amount) if layer < len(LAYERS) else np.ones(tuple(w.shape), np.float32)
    return w.numpy(), C.l1_unstructured_mask(w, amount).numpy(), np.asarray(s), C.prune_threshold(w, amount)


@st.cache_data(max_entries=16, show_spinner=False)
def fine_tuned(seed: int, amount: float, mode: str) -> C.FineTune:
    return C.fine_tune(seed, amount, mode, steps=200, every=20)


@st.cache_data(max_entries=8, show_spinner=False)
def layer_quant(seed: int, layer: int, scheme: str) -> C.LayerQuant:
    return C.layer_quant(seed, layer - 1, scheme)


@st.cache_data(max_entries=2, show_spinner=False)
def quant_report(seed: int, scheme: str) -> C.QuantReport:
    return C.quant_report(seed, scheme)


@st.cache_data(max_entries=16, show_spinner=False)
def imagenet_case(_model, rgb: np.ndarray, amount: float, quant: str, fold: bool) -> C.ImageNetCompression:
    """The shared MobileNetV2 (a copy of it compressed) on the photo; keyed by the photo's pixels and the settings."""
    from engine.common import classifier
    return C.compress_imagenet(_model, classifier.to_tensor(rgb), amount, quant, fold)


@st.cache_data(max_entries=1, show_spinner=False)
def logits(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return C.logits_example(seed)


st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))
# the base network trains once per server (single-flight, also by the warm-up): a moving bar while it does
acc0, n0 = warm.wait_for(base_info, 0, what=t(f"{K}.preparing_base"), expect_s=3.0)
st.caption(t(f"{K}.base_caption", acc=f"{100 * acc0:.1f}", n=f"{n0:,}"))

# ---- 1. pruning ---------------------------------------------------------------------------------------------------
st.header(t(f"{K}.prune_header"))
st.markdown(t(f"{K}.prune_text"))
formula(f"{K}.prune_formula")
formula(f"{K}.structured_formula")
c = st.columns(2)
amount = c[0].select_slider(t(f"{K}.amount"), AMOUNTS, 0.8, key=f"{K}.amount", bind="query-params")
layer = c[1].radio(t(f"{K}.layer"), LAYERS, format_func=fmt(f"{K}.layers"), horizontal=True, key=f"{K}.layer",
                   bind="query-params")
w, m_u, m_s, thr = layer_masks(0, layer, amount)
k_pruned = C.n_to_prune(amount, w.size)
st.markdown(t(f"{K}.threshold", n=f"{w.size:,}", k=f"{k_pruned:,}", thr=f"{thr:.4f}", rows=w.shape[0],
              rows_k=int((m_s.sum(axis=1) == 0).sum())))
st.plotly_chart(figs.plot_weight_hist(w.ravel(), thr, labels(f"{K}.fig_hist")), key=f"{K}.fig_hist")
charts.panels(figs.plot_masks({"unstructured": m_u, "structured": m_s}, w, labels(f"{K}.fig_masks")),
              key=f"{K}.fig_masks")
if layer == len(LAYERS):
    st.caption(t(f"{K}.output_layer"))
cur = curve(0)
j = int(np.argmin(np.abs(cur.amounts - amount)))
m = st.columns(4)
m[0].metric(t(f"{K}.metric_dense"), f"{100 * cur.accuracy[0, 0]:.1f} %")
m[1].metric(t(f"{K}.metric_unstructured"), f"{100 * cur.accuracy[0, j]:.1f} %",
            help=t(f"{K}.params_help", n=f"{int(cur.params[0, j]):,}"))
m[2].metric(t(f"{K}.metric_structured"), f"{100 * cur.accuracy[1, j]:.1f} %",
            help=t(f"{K}.params_help", n=f"{int(cur.params[1, j]):,}"))
m[3].metric(t(f"{K}.metric_shrunk"), si(cur.params[1, j]), help=t(f"{K}.shrunk_help", n=f"{n0:,}"))
st.plotly_chart(figs.plot_sparsity_curve(cur, amount, labels(f"{K}.fig_curve")), key=f"{K}.fig_curve")
st.markdown(t(f"{K}.curve_text"))
show_source(C.l1_unstructured_mask)
show_source(C.ln_structured_mask)

st.subheader(t(f"{K}.ft_header"))
st.markdown(t(f"{K}.ft_text"))
fts = warm.wait_for(lambda: [fine_tuned(0, amount, mode) for mode in C.MODES], what=t(f"{K}.preparing_ft"),
                    expect_s=1.0)
st.plotly_chart(figs.plot_finetune(fts, labels(f"{K}.fig_ft")), key=f"{K}.fig_ft")
st.caption(t(f"{K}.ft_caption", amount=f"{100 * amount:g}", u0=f"{100 * fts[0].accuracy[0]:.1f}",
             u1=f"{100 * fts[0].accuracy[-1]:.1f}", s0=f"{100 * fts[1].accuracy[0]:.1f}",
             s1=f"{100 * fts[1].accuracy[-1]:.1f}", steps=int(fts[0].steps[-1]),
             zu=f"{100 * fts[0].zeros:.1f}", zs=f"{100 * fts[1].zeros:.1f}"))
show_source(C.fine_tune)

# ---- 2. quantisation ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.quant_header"))
st.markdown(t(f"{K}.quant_text"))
formula(f"{K}.quant_formula")
c = st.columns(2)
scheme = c[0].radio(t(f"{K}.scheme"), C.SCHEMES, format_func=fmt(f"{K}.schemes"), horizontal=True,
                    key=f"{K}.scheme", bind="query-params")
q_layer = c[1].radio(t(f"{K}.q_layer"), LAYERS, format_func=fmt(f"{K}.layers"), horizontal=True,
                     key=f"{K}.q_layer", bind="query-params")
formula(f"{K}.{scheme}_formula")
lq = layer_quant(0, q_layer, scheme)
qp = lq.qp
i_max = int(np.argmax(np.abs(lq.w)))
ex = int(np.argmin(np.abs(np.abs(lq.w) - np.median(np.abs(lq.w)))))    # a typical weight
formula(f"{K}.{scheme}_numbers", lo=f"{qp.lo:.5f}", hi=f"{qp.hi:.5f}", s=f"{qp.scale:.6f}", z=qp.zero_point)
formula(f"{K}.example_numbers", w=f"{lq.w[ex]:.5f}", s=f"{qp.scale:.6f}", z=qp.zero_point,
        r=f"{lq.w[ex] / qp.scale:.3f}", q=int(lq.q[ex]), wh=f"{lq.w[ex] - lq.error[ex]:.5f}",
        e=sci_tex(float(lq.error[ex])))
st.caption(t(f"{K}.quant_caption", n=f"{lq.w.size:,}", used=lq.levels_used, err=f"{lq.max_error:.2e}",
             half=f"{qp.scale / 2:.2e}", wmax=f"{lq.w[i_max]:.4f}", qmax=int(lq.q[i_max])))
charts.panels(figs.plot_quant(lq, labels(f"{K}.fig_quant")), key=f"{K}.fig_quant")
show_source(C.qparams)

st.subheader(t(f"{K}.int8_header"))
st.markdown(t(f"{K}.int8_text"))
formula(f"{K}.int8_formula")
rep = quant_report(0, scheme)
m = st.columns(4)
m[0].metric(t(f"{K}.metric_float"), f"{100 * rep.acc_float:.1f} %")
m[1].metric(t(f"{K}.metric_wonly"), f"{100 * rep.acc_weights:.1f} %")
m[2].metric(t(f"{K}.metric_int8"), f"{100 * rep.acc_int8:.1f} %")
m[3].metric(t(f"{K}.metric_torch"), f"{100 * rep.acc_torch:.1f} %",
            help=t(f"{K}.agree_help", agree=f"{100 * rep.agree_torch:.1f}"))
st.dataframe([
    {t(f"{K}.col_model"): t(f"{K}.row_float"), t(f"{K}.col_bytes"): f"{rep.bytes_float:,}",
     t(f"{K}.col_ms"): f"{1000 * rep.seconds_float:.2f}"},
    {t(f"{K}.col_model"): t(f"{K}.row_ours"), t(f"{K}.col_bytes"): f"{rep.bytes_int8:,}",
     t(f"{K}.col_ms"): f"{1000 * rep.seconds_ours:.2f}"},
    {t(f"{K}.col_model"): t(f"{K}.row_torch"), t(f"{K}.col_bytes"): f"{rep.bytes_torch:,}",
     t(f"{K}.col_ms"): f"{1000 * rep.seconds_torch:.2f}"},
], hide_index=True, key=f"{K}.size_table")
st.caption(t(f"{K}.size_caption", ratio=f"{rep.bytes_float / rep.bytes_int8:.2f}", batch=rep.batch,
             speed=f"{rep.seconds_float / rep.seconds_torch:.2f}", slow=f"{rep.seconds_ours / rep.seconds_float:.0f}"))
show_source(C.int8_linear)

# ---- 3. distillation ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.kd_header"))
st.markdown(t(f"{K}.kd_text"))
formula(f"{K}.soft_formula")
formula(f"{K}.kd_formula")
c = st.columns(2)
T = c[0].select_slider(t(f"{K}.T"), TEMPS, 4.0, key=f"{K}.T", bind="query-params")
digit = c[1].slider(t(f"{K}.digit"), 0, 63, 0, key=f"{K}.digit", bind="query-params")
z_t, z_s = logits(0)
x_te = C.digits_data(0)[2]
p1, pT = C.soft_targets(z_t[digit], 1.0), C.soft_targets(z_t[digit], T)
probs = [(t(f"{K}.t_one"), p1), (t(f"{K}.t_chosen", T=f"{T:g}"), pT)]
charts.panels(figs.plot_soft_targets(x_te[digit].reshape(14, 14), probs, labels(f"{K}.fig_soft")),
              key=f"{K}.fig_soft")
st.caption(t(f"{K}.soft_caption", top=int(np.argmax(p1)), p1=f"{p1.max():.4f}", pT=f"{pT.max():.4f}",
             second=int(np.argsort(p1)[-2]), q1=f"{np.sort(p1)[-2]:.2e}", qT=f"{np.sort(pT)[-2]:.3f}", T=f"{T:g}"))
st.markdown(t(f"{K}.t2_text"))
formula(f"{K}.grad_formula")
gs = C.grad_scale(z_s, z_t, np.geomspace(1, 32, 31))
st.plotly_chart(figs.plot_grad_scale(gs, T, labels(f"{K}.fig_grad")), key=f"{K}.fig_grad")
show_source(C.kd_loss)

st.subheader(t(f"{K}.train_header"))
st.markdown(t(f"{K}.train_text"))
c = st.columns(3)
alpha = c[0].slider(t(f"{K}.alpha"), 0.0, 1.0, 0.9, 0.1, key=f"{K}.alpha", bind="query-params")
hidden = c[1].select_slider(t(f"{K}.hidden"), HIDDEN, 32, key=f"{K}.hidden", bind="query-params")
n_train = c[2].select_slider(t(f"{K}.n_train"), N_TRAIN, 300, key=f"{K}.n_train", bind="query-params")
cfg = C.DistillConfig(T=float(T), alpha=float(alpha), hidden=int(hidden), n_train=int(n_train))
lab_kd = labels(f"{K}.fig_kd")


def draw(run: training.Run) -> None:
    snap = run.snaps["distill"]
    charts.live(figs.plot_distill(snap, lab_kd), key=f"{K}.fig_kd")
    st.caption(t(f"{K}.kd_status", step=snap.step, kd=f"{100 * snap.metrics['kd.acc']:.1f}",
                 ce=f"{100 * snap.metrics['ce.acc']:.1f}", teacher=f"{100 * snap.teacher_acc:.1f}",
                 ps=f"{snap.student_params:,}", pt=f"{snap.teacher_params:,}",
                 ratio=f"{snap.teacher_params / snap.student_params:.0f}"))


run = training.start(K, cfg, lambda c: {"distill": C.distill(c)}, name="distill")
training.live(run, draw)
show_source(C.distill)

# ---- 4. the same on MobileNetV2 and the reader's photo ------------------------------------------------------------
st.header(t(f"{K}.mb_header"))
st.markdown(t(f"{K}.mb_text"))
model = mobilenet_or_error()
image = image_input_ui(K) if model is not None else None
if model is not None and image is not None:
    from engine.common import classifier
    photo = classifier.preprocess(image)
    c = st.columns(3)
    mb_amount = c[0].select_slider(t(f"{K}.mb_amount"), MB_AMOUNTS, 0.1, key=f"{K}.mb_amount", bind="query-params")
    mb_quant = c[1].radio(t(f"{K}.mb_quant"), C.QUANTS, index=1, format_func=fmt(f"{K}.quants"),
                          key=f"{K}.mb_quant", bind="query-params")
    mb_fold = c[2].toggle(t(f"{K}.mb_fold"), True, key=f"{K}.mb_fold", bind="query-params",
                          help=t(f"{K}.mb_fold_help"))
    res = imagenet_case(model, photo.rgb, float(mb_amount), mb_quant, bool(mb_fold))
    names = imagenet_categories()
    top = np.argsort(res.probs)[::-1][:5]
    top_c = np.argsort(res.probs_c)[::-1][:5]
    left, right = st.columns([1, 2])
    left.image(photo.rgb, width="stretch")
    right.dataframe([{t(f"{K}.col_rank"): r + 1, t(f"{K}.col_before"): f"{names[i]} ({100 * res.probs[i]:.1f} %)",
                      t(f"{K}.col_after"): f"{names[j]} ({100 * res.probs_c[j]:.1f} %)"}
                     for r, (i, j) in enumerate(zip(top, top_c))], hide_index=True, key=f"{K}.mb_table")
    with right:
        imagenet_names_note()
    m = st.columns(3)
    m[0].metric(t(f"{K}.mb_zeros"), f"{100 * res.zeros:.1f} %", help=t(f"{K}.mb_zeros_help", n=f"{res.n_weights:,}"))
    m[1].metric(t(f"{K}.mb_size"), f"{res.bytes_c / 1e6:.2f} MB", help=t(f"{K}.mb_size_help",
                                                                      f=f"{res.bytes_float / 1e6:.2f}"))
    m[2].metric(t(f"{K}.mb_kl"), f"{res.kl:.3f}")
    same = int(top[0]) == int(top_c[0])
    st.caption(t(f"{K}.mb_same" if same else f"{K}.mb_changed", before=names[top[0]], after=names[top_c[0]],
                 p=f"{100 * res.probs_c[top[0]]:.1f}"))
    show_source(C.compress_imagenet)
st.caption(t(f"{K}.references"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("compression")
