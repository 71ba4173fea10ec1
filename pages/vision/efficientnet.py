import numpy as np
import streamlit as st

from engine.vision import efficientnet as eff
from engine.figures.common import si
from engine.figures.vision import efficientnet as figs
from ui import fmt, formula, image_input_ui, show_source, t, warm

K = "efficientnet"


def L(*names: str, **renamed: str) -> dict[str, str]:
    """Figure labels in the reader's language: name -> t("efficientnet.<name>")."""
    out = {n: t(f"{K}.{n}") for n in names}
    out.update({k: t(f"{K}.{v}") for k, v in renamed.items()})
    return out


@st.cache_data(max_entries=512, show_spinner=False)
def scaling(alpha: float, beta: float, gamma: float, phi: float) -> eff.Scaling:
    return eff.scaling(alpha, beta, gamma, phi)


@st.cache_data(max_entries=1, show_spinner=False)
def preset_rows() -> tuple[eff.PresetRow, ...]:
    return eff.preset_rows()


@st.cache_data(max_entries=64, show_spinner=False)
def count_full(width_mult: float, depth_mult: float, resolution: int) -> tuple[int, int]:
    return eff.count_model_full(width_mult, depth_mult, resolution)


@st.cache_data(max_entries=64, show_spinner=False)
def fit_budget(phi: float) -> dict[str, eff.BudgetFit]:
    return eff.fit_budget(eff.budget_target(phi))


@st.cache_data(max_entries=256, show_spinner=False)
def block_anatomy(*cfg) -> eff.BlockAnatomy:
    return eff.block_anatomy(*cfg)


@st.cache_resource(max_entries=4, show_spinner=False)
def trunk(seed: int):
    return eff.seeded_trunk(seed)


@st.cache_data(max_entries=32, show_spinner=False)
def se_result(image: np.ndarray, seed: int, stage: int, block: int) -> eff.SEResult:
    return eff.se_on_image(image, trunk(seed), stage, block)


def scaling_ui() -> tuple[float, float, float, float]:
    c = st.columns(4)
    alpha = c[0].slider(t(f"{K}.alpha"), 1.0, 1.5, eff.PAPER_ALPHA, 0.01, key=f"{K}.alpha", bind="query-params")
    beta = c[1].slider(t(f"{K}.beta"), 1.0, 1.5, eff.PAPER_BETA, 0.01, key=f"{K}.beta", bind="query-params")
    gamma = c[2].slider(t(f"{K}.gamma"), 1.0, 1.5, eff.PAPER_GAMMA, 0.01, key=f"{K}.gamma", bind="query-params")
    phi = c[3].slider(t(f"{K}.phi"), 0.0, 7.0, 1.0, 0.5, key=f"{K}.phi", bind="query-params")
    return alpha, beta, gamma, phi


st.title(t("efficientnet.title"))
st.markdown(t(f"{K}.intro"))
formula(f"{K}.formula_scaling")

# 1 · compound scaling ---------------------------------------------------------------------------------------
st.header(t(f"{K}.scaling_header"))
st.markdown(t(f"{K}.scaling_help"))
alpha, beta, gamma, phi = scaling_ui()
# counted on the meta device (~2 s the first time in a process): a moving bar while it counts
sc, presets = warm.wait_for(lambda: (scaling(alpha, beta, gamma, phi), preset_rows()), what=t(f"{K}.computing"),
                            expect_s=1.5)
net = sc.net

m = st.columns(6)
m[0].metric(t(f"{K}.metric_d"), f"{sc.depth_mult:.4g}")
m[1].metric(t(f"{K}.metric_w"), f"{sc.width_mult:.4g}")
m[2].metric(t(f"{K}.metric_r"), f"{sc.resolution_mult:.4g}")
m[3].metric(t(f"{K}.metric_constraint"), f"{sc.constraint:.3f}")
m[4].metric(t(f"{K}.metric_predicted"), si(sc.predicted), help=t(f"{K}.metric_predicted_help"))
m[5].metric(t(f"{K}.metric_counted"), si(sc.counted), help=t(f"{K}.metric_counted_help"))
formula(f"{K}.formula_flops")

left, right = st.columns(2)
with left:
    st.plotly_chart(figs.plot_constraint(alpha, beta, gamma, L("you", "paper", "value", beta="beta_axis",
                                                               gamma="gamma_axis")), key=f"{K}.fig_constraint")
    st.caption(t(f"{K}.constraint_caption"))
with right:
    ratios = {r.name: r.macs_ratio for r in presets if r.phi > 0}
    st.plotly_chart(figs.plot_flops_growth(alpha, beta, gamma, phi, sc.counted, ratios,
                                           L("predicted", "two", "you", "presets", phi="phi_axis",
                                             ratio="ratio_axis")), key=f"{K}.fig_growth")
    st.caption(t(f"{K}.growth_caption"))

# 2 · the real network ------------------------------------------------------------------------------------------
st.header(t(f"{K}.network_header"))
st.markdown(t(f"{K}.network_help"))
c = st.columns(3)
c[0].metric(t(f"{K}.params"), si(net.params), help=f"{net.params:,}")
c[1].metric(t(f"{K}.macs"), si(net.macs), help=f"{net.macs:,}")
c[2].metric(t(f"{K}.resolution_px", res=net.resolution), f"w={net.width_mult:.2f}, d={net.depth_mult:.2f}")
st.dataframe([{t(f"{K}.col_stage"): i + 1, t(f"{K}.col_operator"): s.operator,
               t(f"{K}.col_resolution"): f"{s.resolution[0]}×{s.resolution[1]}",
               t(f"{K}.col_channels"): s.channels, t(f"{K}.col_layers"): s.layers,
               t(f"{K}.col_params"): f"{s.params:,}", t(f"{K}.col_macs"): si(s.macs)}
              for i, s in enumerate(net.stages)], hide_index=True, key=f"{K}.table")
st.caption(t(f"{K}.table_caption"))
if st.toggle(t(f"{K}.verify"), key=f"{K}.verify", help=t(f"{K}.verify_help"), bind="query-params"):
    with st.spinner(t(f"{K}.computing")):
        params, macs = count_full(net.width_mult, net.depth_mult, net.resolution)
    same = (params, macs) == (net.params, net.macs)
    st.caption(t(f"{K}.verify_same" if same else f"{K}.verify_differs", params=f"{params:,}", macs=f"{macs:,}"))

st.subheader(t(f"{K}.presets_header"))
st.markdown(t(f"{K}.presets_help"))
st.dataframe([{t(f"{K}.col_model"): r.name,
               t(f"{K}.col_w_tv"): r.width_mult, t(f"{K}.col_beta_phi"): f"{r.beta_phi:.3f}",
               t(f"{K}.col_d_tv"): r.depth_mult, t(f"{K}.col_alpha_phi"): f"{r.alpha_phi:.3f}",
               t(f"{K}.col_r_tv"): r.resolution, t(f"{K}.col_gamma_phi"): r.gamma_resolution,
               t(f"{K}.col_params"): f"{r.params:,}", t(f"{K}.col_macs"): si(r.macs)}
              for r in presets], hide_index=True, key=f"{K}.presets")
st.plotly_chart(figs.plot_multipliers((net.width_mult, net.depth_mult, net.resolution), L("you", width="width_axis", depth="depth_axis",
                                                            presets="presets_legend", paper="paper_path")),
                key=f"{K}.fig_multipliers")
st.caption(t(f"{K}.multipliers_caption"))

# 3 · one dimension vs compound ---------------------------------------------------------------------------------
st.header(t(f"{K}.single_header"))
with st.spinner(t(f"{K}.computing")):
    fits = fit_budget(phi)
budget = next(iter(fits.values())).budget
st.markdown(t(f"{K}.single_help", phi=f"{phi:g}", budget=si(budget)))
names = {s: t(f"{K}.single_{s}") for s in fits}
st.plotly_chart(figs.plot_single_dimension({names[s]: f for s, f in fits.items()},
                                           L(params="single_params", macs="single_macs") | {
                                               "macs": t(f"{K}.single_macs", budget=si(budget))}),
                key=f"{K}.fig_single")
mine = eff.as_budget_fit(net, budget)
st.dataframe([{t(f"{K}.col_strategy"): names.get(f.strategy, t(f"{K}.single_you")),
               t(f"{K}.col_setting"): t(f"{K}.setting_{f.strategy}", x=f"{f.x:.3f}", d=f"{f.depth_mult:.3f}",
                                        w=f"{f.width_mult:.3f}", res=f.resolution),
               t(f"{K}.col_macs_exact"): f"{f.macs:,}", t(f"{K}.col_deviation"): f"{f.deviation + 0.0:+.2%}".replace("-0.00%", "±0.00%").replace("+0.00%", "±0.00%"),
               t(f"{K}.col_blocks"): f.blocks, t(f"{K}.col_head"): f.head_channels}
              for f in (*fits.values(), mine)], hide_index=True, key=f"{K}.single_table")
st.caption(t(f"{K}.single_caption", budget=f"{budget:,.0f}"))

# 4 · MBConv and SE ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.mbconv_header"))
st.markdown(t(f"{K}.mbconv_help"))
stage_labels = {i: f"{i} · {s.operator}" for i, s in enumerate(net.stages[1:-1], start=1)}
stage = st.selectbox(t(f"{K}.mbconv_stage"), list(stage_labels), index=2, format_func=stage_labels.get,
                     key=f"{K}.stage", bind="query-params")
which = st.radio(t(f"{K}.mbconv_which"), ["first", "repeat"], horizontal=True, format_func=fmt(f"{K}.which"),
                 key=f"{K}.which", bind="query-params")
anat = block_anatomy(net.width_mult, net.depth_mult, net.resolution, stage, which == "repeat")
if anat.single:
    st.caption(t(f"{K}.single_layer"))
st.plotly_chart(figs.plot_mbconv(anat.layers, L(params="mb_params", skip="mb_skip", input="mb_input")),
                key=f"{K}.fig_mbconv")
sv = anat.saving
c = st.columns(3)
c[0].metric(t(f"{K}.dw_params", k=sv.kernel, c=sv.channels), f"{sv.depthwise:,}")
c[1].metric(t(f"{K}.full_params", k=sv.kernel, c=sv.channels), f"{sv.full:,}")
c[2].metric(t(f"{K}.dw_ratio"), f"1/{sv.ratio}")

st.subheader(t(f"{K}.se_header"))
st.markdown(t(f"{K}.se_help"))
formula(f"{K}.formula_se")
st.warning(t(f"{K}.se_untrained"))
image = image_input_ui(K)
if image is not None:
    c = st.columns(2)
    seed = int(c[0].number_input(t(f"{K}.se_seed"), 0, 9999, 0, key=f"{K}.seed", bind="query-params"))
    model = trunk(seed)
    blocks = eff.se_blocks(model)
    i = c[1].selectbox(t(f"{K}.se_block"), range(len(blocks)), index=len(blocks) - 1, key=f"{K}.block",
                       format_func=lambda j: f"{blocks[j][0]}.{blocks[j][1]}", bind="query-params")
    block = blocks[i]
    se = se_result(np.asarray(image), seed, *block)
    st.caption(t(f"{K}.se_block_name", stage=block[0], block=block[1], c=se.u.shape[0], h=se.u.shape[1]))
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.image(se.image, caption=t(f"{K}.se_image_caption", size=se.image.shape[0]), width="stretch")
    with right:
        st.plotly_chart(figs.plot_se_weights(se, L(channel="se_channel", z="se_z", s="se_s")), key=f"{K}.fig_se")
    st.plotly_chart(figs.plot_se_maps(se, L(before="se_before", after="se_after", channel="se_channel")),
                    key=f"{K}.fig_se_maps")
    st.caption(t(f"{K}.se_maps_caption"))

# 5 · GPipe / accuracy vs parameters ------------------------------------------------------------------------------
st.header(t(f"{K}.gpipe_header"))
st.markdown(t(f"{K}.gpipe_help"))
st.plotly_chart(figs.plot_accuracy_vs_params({r.name: r.params for r in presets},
                                             L("counted", "effnet", "others", "acc", params="params_m")),
                key=f"{K}.fig_gpipe")

show_source(eff.compound_scaling)
show_source(eff.profile)
show_source(eff.mbconv_anatomy)
show_source(eff.squeeze_excitation)
st.caption(t(f"{K}.references"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("efficientnet")
