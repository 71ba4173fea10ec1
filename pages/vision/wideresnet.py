import streamlit as st

from engine.figures.common import si
from engine.vision import wideresnet as wrn
from engine.figures.vision import wideresnet as figs
from ui import charts
from ui import formula, fmt, show_source, t

K = "wideresnet"


@st.cache_data(max_entries=256, show_spinner=False)
def profile(arch: str, depth: int, k: int) -> wrn.NetProfile:
    return wrn.profile(arch, depth, k)


@st.cache_data(max_entries=256, show_spinner=False)
def comparison(depth: int, k: int, thin: str) -> tuple[wrn.CompareRow, ...]:
    return wrn.comparison(depth, k, thin)


@st.cache_data(max_entries=1, show_spinner=False)
def paper_results() -> tuple[wrn.ResultRow, ...]:
    return wrn.paper_results()


def wrn_ui() -> tuple[int, int]:
    c = st.columns(2)
    depth = c[0].slider(t(f"{K}.depth"), 10, 100, 28, 6, key=f"{K}.depth", bind="query-params")
    k = c[1].slider(t(f"{K}.k"), 1, 12, 10, 1, key=f"{K}.k", bind="query-params")
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
m[1].metric(t(f"{K}.metric_params"), si(net.params, 4), help=f"{net.params:,}")
m[2].metric(t(f"{K}.metric_macs"), si(net.macs, 4), help=f"{net.macs:,}")
m[3].metric(t(f"{K}.metric_rf"), t(f"{K}.rf_value", rf=net.receptive_field))

blocks = ["[3×3, 16]"] + [f"[3×3, {w}k]×2 ×{n}" for w in (16, 32, 64)] + ["[8×8] avg, fc"]
st.dataframe([{t(f"{K}.col_group"): g.name, t(f"{K}.col_output"): "×".join(str(v) for v in g.out_shape),
               t(f"{K}.col_block"): b, t(f"{K}.col_blocks"): g.blocks, t(f"{K}.col_params"): f"{g.params:,}",
               t(f"{K}.col_macs"): si(g.macs), t(f"{K}.col_rf"): g.receptive_field}
              for g, b in zip(net.groups, blocks)], hide_index=True, key=f"{K}.table")
st.caption(t(f"{K}.table_caption", d=depth, k=k))
charts.panels(figs.plot_groups(net, {"params": t(f"{K}.metric_params"), "macs": t(f"{K}.metric_macs")}),
                key=f"{K}.fig_groups")
st.caption(t(f"{K}.groups_caption"))
st.info(t(f"{K}.counting_note"))

# wide and shallow vs thin and deep ----------------------------------------------------------------------------
st.header(t(f"{K}.compare_header"))
st.markdown(t(f"{K}.compare_help"))
thin_choice = st.radio(t(f"{K}.thin"), wrn.THIN_CHOICES, horizontal=True, format_func=fmt(K), key=f"{K}.thin",
                       bind="query-params")
with st.spinner(t(f"{K}.computing")):
    compared = comparison(depth, k, thin_choice)
st.dataframe([{t(f"{K}.col_model"): r.name, t(f"{K}.col_depth"): r.profile.depth,
               t(f"{K}.col_depth_ratio"): f"×{r.depth_ratio:.3g}", t(f"{K}.col_params"): si(r.profile.params),
               t(f"{K}.col_params_ratio"): f"×{r.params_ratio:.3g}", t(f"{K}.col_macs"): si(r.profile.macs),
               t(f"{K}.col_width"): r.width, t(f"{K}.col_seq"): r.sequential_convs,
               t(f"{K}.col_rf"): r.profile.receptive_field}
              for r in compared], hide_index=True, key=f"{K}.compare")
st.caption(t(f"{K}.ratio_caption", you=compared[0].name))
you, thin = compared[0], compared[1]
left, right = st.columns(2)
with left:
    st.plotly_chart(figs.plot_compare({r.name: r.profile for r in compared},
                                      {"params": t(f"{K}.params_axis"), "depth": t(f"{K}.depth_axis"),
                                       "macs": t(f"{K}.macs_axis")}), key=f"{K}.fig_compare")
    st.caption(t(f"{K}.compare_caption"))
with right:
    curves = {r.name: wrn.receptive_field_curve(r.profile.arch, r.profile.depth, r.profile.k) for r in (you, thin)}
    st.plotly_chart(figs.plot_receptive_field(curves, wrn.CIFAR_SIDE, {"depth": t(f"{K}.rf_depth"),
                                                                       "rf": t(f"{K}.rf_axis"),
                                                                       "image": t(f"{K}.rf_image")}),
                    key=f"{K}.fig_rf")
    st.caption(t(f"{K}.rf_caption"))

# reported results ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.results_header"))
st.markdown(t(f"{K}.results_help", ratio=f"{wrn.layers_ratio():.0f}"))
st.dataframe([{t(f"{K}.col_model"): r.name, t(f"{K}.col_depth"): r.depth, t(f"{K}.col_reported"): r.reported_params,
               t(f"{K}.col_counted"): f"{r.counted_params:,}", t(f"{K}.col_c10"): r.cifar10_error,
               t(f"{K}.col_c100"): r.cifar100_error} for r in paper_results()], hide_index=True, key=f"{K}.results")

show_source(wrn.WideBasic)
show_source(wrn.profile)
show_source(wrn.receptive_field)
st.caption(t(f"{K}.references"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("wideresnet")
