"""Basics › Convolution arithmetic: padding, stride, dilation and groups on the learner's image; output sizes, im2col,
receptive fields, costs, transposed convolution and pooling."""
import numpy as np
import streamlit as st

from engine.basics import conv as C
from engine.figures.basics import conv as figs
from engine.figures.common import si
from ui import fmt, formula, image_input_ui, labels, show_source, t

K = "conv"
CHANNELS = (16, 32, 64, 128, 256, 512)
SIDES = (7, 14, 28, 56, 112)
T_INPUT = 5                      # side of the transposed convolution's input of ones


@st.cache_data(max_entries=16, show_spinner=False)
def prepare(rgb: np.ndarray, side: int, gray: bool) -> np.ndarray:
    return C.prepare_image(rgb, side, gray)


@st.cache_data(max_entries=32, show_spinner=False)
def convolve(x: np.ndarray, kernel: str, k: int, p: int, s: int, d: int, groups: int) -> C.Convolution:
    return C.convolve(x, kernel, k, p, s, d, groups)


@st.cache_data(max_entries=32, show_spinner=False)
def pooled(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    return C.pool2d(x, k, mode="max"), C.pool2d(x, k, mode="avg")


def size_ui() -> tuple[int, int, int, int]:
    c = st.columns(4)
    k = c[0].slider(t(f"{K}.k"), 1, 7, 3, key=f"{K}.k", bind="query-params")
    p = c[1].slider(t(f"{K}.p"), 0, 4, 1, key=f"{K}.p", bind="query-params")
    s = c[2].slider(t(f"{K}.s"), 1, 4, 1, key=f"{K}.s", bind="query-params")
    d = c[3].slider(t(f"{K}.d"), 1, 4, 1, key=f"{K}.d", bind="query-params")
    return k, p, s, d


def matrix_tex(m: np.ndarray, digits: int = 2) -> str:
    rows = r" \\ ".join(" & ".join(f"{v:.{digits}f}" for v in row) for row in m)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


def show_axis(axis: str, a: C.OutputSize) -> None:
    formula(f"{K}.size_numbers", axis=axis, n=a.n, p=a.p, d=a.d, k=a.k, s=a.s, num=a.span, o=a.out)
    if a.out < 1:
        return
    if a.dropped:
        st.markdown(t(f"{K}.dropped", axis=axis, span=a.span, s=a.s, exact=f"{a.exact:.3g}", r=a.dropped,
                      o=a.out))
    else:
        st.markdown(t(f"{K}.exact", axis=axis, span=a.span, s=a.s, o=a.out))


st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))

# ---- 1. the image ------------------------------------------------------------------------------------------
st.header(t(f"{K}.input_header"))
img = image_input_ui(K)
if img is None:
    st.stop()
c = st.columns(2)
colour = c[0].radio(t(f"{K}.colour"), ("gray", "rgb"), format_func=fmt(f"{K}.colours"), horizontal=True,
                    key=f"{K}.colour", bind="query-params")
side = c[1].slider(t(f"{K}.side"), 8, 64, 32, key=f"{K}.side", bind="query-params")
x = prepare(np.asarray(img), side, colour == "gray")
c_in, H, W = x.shape
st.caption(t(f"{K}.input_caption", h0=img.height, w0=img.width, c=c_in, h=H, w=W))

# ---- 2. output size ------------------------------------------------------------------------------------------
st.header(t(f"{K}.size_header"))
st.markdown(t(f"{K}.size_text"))
formula(f"{K}.size_formula")
k, p, s, d = size_ui()
rows, cols = C.output_size_steps(H, k, p, s, d), C.output_size_steps(W, k, p, s, d)
show_axis("H", rows)
show_axis("W", cols)
fits = rows.out >= 1 and cols.out >= 1
if not fits:
    st.warning(t(f"{K}.no_fit", k_eff=rows.k_eff, h=rows.padded, w=cols.padded))
show_source(C.output_size)

# ---- 3. the kernel sliding ------------------------------------------------------------------------------------
st.header(t(f"{K}.slide_header"))
st.markdown(t(f"{K}.slide_text"))
formula(f"{K}.conv_formula")
c = st.columns(2)
kernel = c[0].selectbox(t(f"{K}.kernel"), C.KERNELS, format_func=fmt(f"{K}.kernels"), key=f"{K}.kernel",
                        bind="query-params")
mode = c[1].radio(t(f"{K}.groups"), ("standard", "depthwise"), format_func=fmt(f"{K}.group_modes"),
                  horizontal=True, key=f"{K}.groups", bind="query-params")
groups = c_in if mode == "depthwise" else 1
st.caption(t(f"{K}.groups_caption", g=groups, c=c_in, per=c_in // groups))
if fits:
    conv = convolve(x, kernel, k, p, s, d, groups)
    h_out, w_out = conv.out.shape[1:]
    n_pos = h_out * w_out
    pos = 0
    if n_pos > 1:       # the key carries the output shape: a stored position never falls outside the slider
        pos = st.slider(t(f"{K}.pos"), 0, n_pos - 1, (h_out // 2) * w_out + w_out // 2, key=f"{K}.pos.{h_out}x{w_out}",
                        bind="query-params")
    o = 0
    if c_in > 1:
        o = st.radio(t(f"{K}.out_channel"), range(c_in), format_func=fmt(f"{K}.channels"), horizontal=True,
                     key=f"{K}.o", bind="query-params")
    win = C.window(conv, pos // w_out, pos % w_out, o)
    lab = labels(f"{K}.fig")
    st.plotly_chart(figs.plot_sliding(conv, win, lab), key=f"{K}.fig_slide")
    st.caption(t(f"{K}.window_caption", i=win.i, j=win.j, o=o, r0=win.rows[0], r1=win.rows[-1], c0=win.cols[0],
                 c1=win.cols[-1], taps=win.patch.size, pad=win.in_padding, value=f"{win.value:.4f}",
                 ch=", ".join(str(v) for v in win.channels), c0ch=win.channels[0]))
    if win.patch.shape[0] == 1 and k <= 5:       # one channel per group: the products written out
        st.latex(rf"y_{{{o},{win.i},{win.j}}} = \sum \left( {matrix_tex(win.patch[0])} \odot "
                 rf"{matrix_tex(win.weight[0], 3)} \right) = {win.value:.4f}")
    if c_in > 1:        # one channel: the map is the one on the right above
        st.plotly_chart(figs.plot_outputs(conv, lab), key=f"{K}.fig_out")
    st.caption(t(f"{K}.output_caption", c=c_in, h=h_out, w=w_out, diff=f"{conv.torch_diff:.1e}"))
    show_source(C.conv2d_naive)

    # ---- 4. im2col ------------------------------------------------------------------------------------------
    st.header(t(f"{K}.im2col_header"))
    st.markdown(t(f"{K}.im2col_text"))
    formula(f"{K}.im2col_formula")
    st.plotly_chart(figs.plot_im2col(conv, pos, labels(f"{K}.fig_im2col")), key=f"{K}.fig_im2col")
    st.caption(t(f"{K}.im2col_caption", g=groups, rows=conv.x_col.shape[1], per=c_in // groups, k=k, L=n_pos,
                 h=h_out, w=w_out,
                 co=c_in // groups, diff=f"{conv.im2col_diff:.1e}", col=pos))
    show_source(C.im2col)
    show_source(C.conv2d_im2col)
else:
    st.info(t(f"{K}.skipped"))

# ---- 5. parameters and multiply–adds ----------------------------------------------------------------------------
st.header(t(f"{K}.cost_header"))
st.markdown(t(f"{K}.cost_text"))
formula(f"{K}.cost_formula")
c = st.columns(3)
ci = c[0].select_slider(t(f"{K}.c_in"), CHANNELS, 64, key=f"{K}.c_in", bind="query-params")
co = c[1].select_slider(t(f"{K}.c_out"), CHANNELS, 128, key=f"{K}.c_out", bind="query-params")
hw = c[2].select_slider(t(f"{K}.hw"), SIDES, 56, key=f"{K}.hw", bind="query-params")
sep = C.separable_cost(ci, co, k, hw, hw)
m = st.columns(3)
m[0].metric(t(f"{K}.metric_standard"), si(sep.standard.params), help=f"{sep.standard.params:,}")
m[1].metric(t(f"{K}.metric_separable"), si(sep.depthwise.params + sep.pointwise.params),
            help=f"{sep.depthwise.params:,} + {sep.pointwise.params:,}")
m[2].metric(t(f"{K}.metric_ratio"), f"{sep.ratio:.3f}", help=t(f"{K}.ratio_help", co=co, k=k,
                                                                   closed=f"{sep.closed_form:.3f}"))
st.plotly_chart(figs.plot_costs(sep, labels(f"{K}.fig_cost")), key=f"{K}.fig_cost")
st.caption(t(f"{K}.cost_caption", k=k, ci=ci, co=co, hw=hw, std=f"{sep.standard.macs:,}",
             dw=f"{sep.depthwise.macs:,}", pw=f"{sep.pointwise.macs:,}"))
formula(f"{K}.separable_formula")
show_source(C.separable_cost)

# ---- 6. receptive field ---------------------------------------------------------------------------------------
st.header(t(f"{K}.rf_header"))
st.markdown(t(f"{K}.rf_text"))
formula(f"{K}.rf_formula")
c = st.columns(4)
n_layers = c[0].slider(t(f"{K}.rf_layers"), 1, 6, 3, key=f"{K}.rf_layers", bind="query-params")
rf_k = c[1].slider(t(f"{K}.rf_k"), 1, 7, 3, key=f"{K}.rf_k", bind="query-params")
rf_s = c[2].slider(t(f"{K}.rf_s"), 1, 2, 1, key=f"{K}.rf_s", bind="query-params")
rf_d = c[3].radio(t(f"{K}.rf_d"), ("constant", "doubling"), format_func=fmt(f"{K}.rf_dilations"),
                  key=f"{K}.rf_d", bind="query-params")
stack = [(rf_k, rf_s, 2 ** l if rf_d == "doubling" else 1) for l in range(n_layers)]
rf = C.receptive_field(stack)
units = C.touched(stack)
st.plotly_chart(figs.plot_receptive_field(rf, units, labels(f"{K}.fig_rf")), key=f"{K}.fig_rf")
st.dataframe([{t(f"{K}.col_layer"): l, "k": kk, "s": ss, "d": dd, t(f"{K}.col_jump"): rf.jump[l - 1],
               t(f"{K}.col_rf"): rf.r[l]} for l, (kk, ss, dd) in enumerate(rf.layers, start=1)],
             hide_index=True, key=f"{K}.rf_table")
st.caption(t(f"{K}.rf_caption", r=rf.r[-1], n=len(units[0])))
show_source(C.receptive_field)

# ---- 7. transposed convolution ----------------------------------------------------------------------------------
st.header(t(f"{K}.t_header"))
st.markdown(t(f"{K}.t_text"))
formula(f"{K}.t_formula")
c = st.columns(2)
t_k = c[0].slider(t(f"{K}.t_k"), 1, 7, 3, key=f"{K}.t_k", bind="query-params")
t_s = c[1].slider(t(f"{K}.t_s"), 1, 4, 2, key=f"{K}.t_s", bind="query-params")
board = C.checkerboard(T_INPUT, t_k, t_s)
formula(f"{K}.t_numbers", n=T_INPUT, s=t_s, k=t_k, o=C.transposed_output_size(T_INPUT, t_k, 0, t_s))
st.plotly_chart(figs.plot_overlap(board.counts, {"title": t(f"{K}.t_title", n=T_INPUT, k=t_k, s=t_s)}),
                key=f"{K}.fig_t")
st.markdown(t(f"{K}.t_even" if board.even else f"{K}.t_uneven", k=t_k, s=t_s, lo=board.lo, hi=board.hi))
show_source(C.conv_transpose2d_naive)

# ---- 8. pooling -------------------------------------------------------------------------------------------------
st.header(t(f"{K}.pool_header"))
st.markdown(t(f"{K}.pool_text"))
formula(f"{K}.pool_formula")
pool_k = st.slider(t(f"{K}.pool_k"), 2, 4, 2, key=f"{K}.pool_k", bind="query-params")
mx, avg = pooled(x[:1], pool_k)
st.plotly_chart(figs.plot_pooling(x[0], mx[0], avg[0], labels(f"{K}.fig_pool")), key=f"{K}.fig_pool")
st.caption(t(f"{K}.pool_caption", k=pool_k, h=H, w=W, ho=mx.shape[1], wo=mx.shape[2]))
show_source(C.pool2d)
st.caption(t(f"{K}.references"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("conv")
