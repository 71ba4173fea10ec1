import streamlit as st

from engine.vision import wideresnet as wrn
from engine.figures.vision import wideresnet as figs
from ui import formula, fmt, show_source, t

K = "wideresnet"


@st.cache_data(max_entries=256, show_spinner=False)
def profile(arch: str, depth: int, k: int) -> wrn.NetProfile:
    return wrn.profile(arch, depth, k)


@st.cache_data(max_entries=256, show_spinner=False)
def matched_depth(params: int) -> int:
    return wrn.preact_depth_matching(params)


def wrn_ui() -> tuple[int, int]:
    c = st.columns(2)
    depth = c[0].slider(t(f"{K}.depth"), 10, 100, 28, 6, key=f"{K}.depth")
    k = c[1].slider(t(f"{K}.k"), 1, 12, 10, 1, key=f"{K}.k")
    return depth, k


st.title(t("wideresnet.title"))
st.markdown(t(f"{K}.intro"))
st.subheader(t(f"{K}.arch_header"))
st.markdown(t(f"{K}.arch_help"))
formula(f"{K}.formula_arch")

depth, k = wrn_ui()
with st.spinner(t(f"{K}.computing")):
    net = profile("wrn", depth, k)
n = wrn.wrn_blocks_per_group(depth)
m = st.columns(4)
m[0].metric(t(f"{K}.metric_n"), n)
m[1].metric(t(f"{K}.metric_params"), f"{net.params / 1e6:.2f} M")
m[2].metric(t(f"{K}.metric_macs"), f"{net.macs / 1e9:.2f} G")
m[3].metric(t(f"{K}.metric_rf"), t(f"{K}.rf_value", rf=net.receptive_field))

blocks = ["[3×3, 16]"] + [f"[3×3, {w}k]×2 ×{n}" for w in (16, 32, 64)] + ["[8×8] avg, fc"]
st.dataframe([{t(f"{K}.col_group"): g.name, t(f"{K}.col_output"): "×".join(str(v) for v in g.out_shape),
               t(f"{K}.col_block"): b, t(f"{K}.col_blocks"): g.blocks, t(f"{K}.col_params"): f"{g.params:,}",
               t(f"{K}.col_macs"): f"{g.macs / 1e6:,.1f} M", t(f"{K}.col_rf"): g.receptive_field}
              for g, b in zip(net.groups, blocks)], hide_index=True, key=f"{K}.table")
st.caption(t(f"{K}.table_caption", d=depth, k=k))
st.plotly_chart(figs.plot_groups(net, {"params": t(f"{K}.metric_params"), "macs": t(f"{K}.metric_macs")}),
                key=f"{K}.fig_groups")
st.caption(t(f"{K}.groups_caption"))
st.info(t(f"{K}.counting_note"))

# wide and shallow vs thin and deep ----------------------------------------------------------------------------
st.header(t(f"{K}.compare_header"))
st.markdown(t(f"{K}.compare_help"))
thin_choice = st.radio(t(f"{K}.thin"), ["thin_matched", "thin_164", "thin_1001"], horizontal=True,
                       format_func=fmt(K), key=f"{K}.thin")
with st.spinner(t(f"{K}.computing")):
    thin_depth = {"thin_matched": matched_depth(net.params), "thin_164": 164, "thin_1001": 1001}[thin_choice]
    thin = profile("preact", thin_depth, 1)
    named = {"WRN-28-10": profile("wrn", 28, 10), "ResNet-164": profile("preact", 164, 1),
             "ResNet-1001": profile("preact", 1001, 1)}
you = f"WRN-{depth}-{k}"
rows = {you: net, f"ResNet-{thin_depth}": thin, **{name: p for name, p in named.items() if name != you}}
st.dataframe([{t(f"{K}.col_model"): name, t(f"{K}.col_depth"): p.depth,
               t(f"{K}.col_width"): p.groups[-2].out_shape[0],
               t(f"{K}.col_seq"): len(wrn.receptive_field_curve(p.arch, p.depth, p.k)),
               t(f"{K}.col_params"): f"{p.params / 1e6:.2f} M", t(f"{K}.col_macs"): f"{p.macs / 1e9:.2f} G",
               t(f"{K}.col_rf"): p.receptive_field} for name, p in rows.items()], hide_index=True,
             key=f"{K}.compare")
left, right = st.columns(2)
with left:
    st.plotly_chart(figs.plot_compare(rows, {"params": t(f"{K}.params_axis"), "depth": t(f"{K}.depth_axis"),
                                             "macs": t(f"{K}.macs_axis")}), key=f"{K}.fig_compare")
    st.caption(t(f"{K}.compare_caption"))
with right:
    curves = {you: wrn.receptive_field_curve("wrn", depth, k),
              f"ResNet-{thin_depth}": wrn.receptive_field_curve("preact", thin_depth)}
    st.plotly_chart(figs.plot_receptive_field(curves, wrn.CIFAR_SIDE, {"depth": t(f"{K}.rf_depth"),
                                                                       "rf": t(f"{K}.rf_axis"),
                                                                       "image": t(f"{K}.rf_image")}),
                    key=f"{K}.fig_rf")
    st.caption(t(f"{K}.rf_caption"))

# reported results ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.results_header"))
st.markdown(t(f"{K}.results_help"))
results = []
for name, (d, kk, reported, c10, c100) in wrn.PAPER_RESULTS.items():
    p = profile("wrn", d, kk) if kk else profile("preact", d, 1)
    results.append({t(f"{K}.col_model"): name, t(f"{K}.col_depth"): d, t(f"{K}.col_reported"): reported,
                    t(f"{K}.col_counted"): round(p.params / 1e6, 2), t(f"{K}.col_c10"): c10,
                    t(f"{K}.col_c100"): c100})
st.dataframe(results, hide_index=True, key=f"{K}.results")

show_source(wrn.WideBasic)
show_source(wrn.profile)
show_source(wrn.receptive_field)
st.caption(t(f"{K}.references"))
