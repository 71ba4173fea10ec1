import numpy as np
import streamlit as st

from engine.vision import efficientnet as eff
from engine.figures.common import si
from engine.figures.vision import efficientnet as figs
from ui import fmt, formula, image_input_ui, show_source, t

K = "efficientnet"


def L(*names: str, **renamed: str) -> dict[str, str]:
    """Figure labels in the reader's language: name -> t("efficientnet.<name>")."""
    out = {n: t(f"{K}.{n}") for n in names}
    out.update({k: t(f"{K}.{v}") for k, v in renamed.items()})
    return out


@st.cache_data(max_entries=512, show_spinner=False)
def profile(width_mult: float, depth_mult: float, resolution: int) -> eff.NetProfile:
    return eff.profile(width_mult, depth_mult, resolution)


@st.cache_data(max_entries=64, show_spinner=False)
def count_full(width_mult: float, depth_mult: float, resolution: int) -> tuple[int, int]:
    return eff.count_model_full(width_mult, depth_mult, resolution)


@st.cache_data(max_entries=256, show_spinner=False)
def anatomy(*cfg) -> tuple[eff.LayerInfo, ...]:
    return eff.mbconv_anatomy(*cfg)


@st.cache_resource(max_entries=4, show_spinner=False)
def trunk(seed: int):
    return eff.seeded_trunk(seed)


@st.cache_data(max_entries=32, show_spinner=False)
def se_result(image: np.ndarray, seed: int, stage: int, block: int) -> eff.SEResult:
    return eff.se_on_image(image, trunk(seed), stage, block)


def scaling_ui() -> tuple[float, float, float, float]:
    c = st.columns(4)
    alpha = c[0].slider(t(f"{K}.alpha"), 1.0, 1.5, eff.PAPER_ALPHA, 0.01, key=f"{K}.alpha")
    beta = c[1].slider(t(f"{K}.beta"), 1.0, 1.5, eff.PAPER_BETA, 0.01, key=f"{K}.beta")
    gamma = c[2].slider(t(f"{K}.gamma"), 1.0, 1.5, eff.PAPER_GAMMA, 0.01, key=f"{K}.gamma")
    phi = c[3].slider(t(f"{K}.phi"), 0.0, 7.0, 1.0, 0.5, key=f"{K}.phi")
    return alpha, beta, gamma, phi


st.title(t("efficientnet.title"))
st.markdown(t(f"{K}.intro"))
formula(f"{K}.formula_scaling")

# 1 · compound scaling ---------------------------------------------------------------------------------------
st.header(t(f"{K}.scaling_header"))
st.markdown(t(f"{K}.scaling_help"))
alpha, beta, gamma, phi = scaling_ui()
d, w, r = eff.compound_scaling(alpha, beta, gamma, phi)
resolution = eff.scaled_resolution(r)
with st.spinner(t(f"{K}.computing")):
    base = profile(1.0, 1.0, eff.BASE_RESOLUTION)
    net = profile(round(w, 4), round(d, 4), resolution)
    presets = {name: profile(*cfg) for name, cfg in eff.PRESETS.items()}

m = st.columns(6)
m[0].metric(t(f"{K}.metric_d"), f"{d:.4g}")
m[1].metric(t(f"{K}.metric_w"), f"{w:.4g}")
m[2].metric(t(f"{K}.metric_r"), f"{r:.4g}")
m[3].metric(t(f"{K}.metric_constraint"), f"{alpha * beta ** 2 * gamma ** 2:.3f}")
m[4].metric(t(f"{K}.metric_predicted"), si(eff.flops_factor(alpha, beta, gamma, phi)))
m[5].metric(t(f"{K}.metric_counted"), si(net.macs / base.macs))
formula(f"{K}.formula_flops")

left, right = st.columns(2)
with left:
    st.plotly_chart(figs.plot_constraint(alpha, beta, gamma, L("you", "paper", "value", beta="beta_axis",
                                                               gamma="gamma_axis")), key=f"{K}.fig_constraint")
    st.caption(t(f"{K}.constraint_caption"))
with right:
    ratios = {n: p.macs / base.macs for n, p in presets.items() if n != "B0"}
    st.plotly_chart(figs.plot_flops_growth(alpha, beta, gamma, phi, net.macs / base.macs, ratios,
                                           L("predicted", "two", "you", "presets", phi="phi_axis",
                                             ratio="ratio_axis")), key=f"{K}.fig_growth")
    st.caption(t(f"{K}.growth_caption"))

# 2 · the real network ------------------------------------------------------------------------------------------
st.header(t(f"{K}.network_header"))
st.markdown(t(f"{K}.network_help"))
c = st.columns(3)
c[0].metric(t(f"{K}.params"), si(net.params), help=f"{net.params:,}")
c[1].metric(t(f"{K}.macs"), si(net.macs), help=f"{net.macs:,}")
c[2].metric(t(f"{K}.resolution_px", res=resolution), f"w={w:.2f}, d={d:.2f}")
st.dataframe([{t(f"{K}.col_stage"): i + 1, t(f"{K}.col_operator"): s.operator,
               t(f"{K}.col_resolution"): f"{s.resolution[0]}×{s.resolution[1]}",
               t(f"{K}.col_channels"): s.channels, t(f"{K}.col_layers"): s.layers,
               t(f"{K}.col_params"): f"{s.params:,}", t(f"{K}.col_macs"): f"{s.macs / 1e6:,.1f} M"}
              for i, s in enumerate(net.stages)], hide_index=True, key=f"{K}.table")
st.caption(t(f"{K}.table_caption"))
if st.toggle(t(f"{K}.verify"), key=f"{K}.verify", help=t(f"{K}.verify_help")):
    with st.spinner(t(f"{K}.computing")):
        params, macs = count_full(round(w, 4), round(d, 4), resolution)
    same = (params, macs) == (net.params, net.macs)
    st.caption(t(f"{K}.verify_same" if same else f"{K}.verify_differs", params=f"{params:,}", macs=f"{macs:,}"))

st.subheader(t(f"{K}.presets_header"))
st.markdown(t(f"{K}.presets_help"))
st.dataframe([{t(f"{K}.col_model"): n,
               t(f"{K}.col_w_tv"): cfg[0], t(f"{K}.col_beta_phi"): round(eff.PAPER_BETA ** k, 3),
               t(f"{K}.col_d_tv"): cfg[1], t(f"{K}.col_alpha_phi"): round(eff.PAPER_ALPHA ** k, 3),
               t(f"{K}.col_r_tv"): cfg[2], t(f"{K}.col_gamma_phi"): eff.scaled_resolution(eff.PAPER_GAMMA ** k),
               t(f"{K}.col_params"): f"{presets[n].params:,}", t(f"{K}.col_macs"): f"{presets[n].macs / 1e9:.2f} G"}
              for k, (n, cfg) in enumerate(eff.PRESETS.items())], hide_index=True, key=f"{K}.presets")
st.plotly_chart(figs.plot_multipliers((w, d, resolution), L("you", width="width_axis", depth="depth_axis",
                                                            presets="presets_legend", paper="paper_path")),
                key=f"{K}.fig_multipliers")
st.caption(t(f"{K}.multipliers_caption"))

# 3 · one dimension vs compound ---------------------------------------------------------------------------------
st.header(t(f"{K}.single_header"))
st.markdown(t(f"{K}.single_help", phi=f"{phi:g}"))
budget = 2.0 ** phi
with st.spinner(t(f"{K}.computing")):
    rows = {t(f"{K}.single_{name}"): profile(*cfg) for name, cfg in eff.single_dimension(budget).items()}
    pd_, pw, pr = eff.compound_scaling(eff.PAPER_ALPHA, eff.PAPER_BETA, eff.PAPER_GAMMA, phi)
    rows[t(f"{K}.single_compound")] = profile(round(pw, 4), round(pd_, 4), eff.scaled_resolution(pr))
rows[t(f"{K}.single_you")] = net
st.plotly_chart(figs.plot_single_dimension({k: (v.params, v.macs) for k, v in rows.items()}, budget, base.macs,
                                           L(params="single_params", macs="single_macs", budget="single_budget")),
                key=f"{K}.fig_single")

# 4 · MBConv and SE ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.mbconv_header"))
st.markdown(t(f"{K}.mbconv_help"))
stage_labels = {i: f"{i} · {s.operator}" for i, s in enumerate(net.stages[1:-1], start=1)}
stage = st.selectbox(t(f"{K}.mbconv_stage"), list(stage_labels), index=2, format_func=stage_labels.get,
                     key=f"{K}.stage")
which = st.radio(t(f"{K}.mbconv_which"), ["first", "repeat"], horizontal=True, format_func=fmt(f"{K}.which"),
                 key=f"{K}.which")
cnf = eff.stage_settings(round(w, 4), round(d, 4))[0][stage - 1]
if which == "repeat" and cnf.num_layers > 1:       # later blocks: stride 1, same channels in and out → skip
    h = net.stages[stage + 1].resolution[0]
    layers = anatomy(cnf.expand_ratio, cnf.kernel, 1, cnf.out_channels, cnf.out_channels, h, h)
else:
    if which == "repeat":
        st.caption(t(f"{K}.single_layer"))
    h = net.stages[stage].resolution[0]
    layers = anatomy(cnf.expand_ratio, cnf.kernel, cnf.stride, cnf.input_channels, cnf.out_channels, h, h)
st.plotly_chart(figs.plot_mbconv(layers, L(params="mb_params", skip="mb_skip", input="mb_input")),
                key=f"{K}.fig_mbconv")
dw = next(layer for layer in layers if layer.name.startswith("depthwise"))
ch = dw.in_shape[0]
dw_p = eff.conv_params(ch, ch, cnf.kernel, groups=ch)
full_p = eff.conv_params(ch, ch, cnf.kernel)
c = st.columns(3)
c[0].metric(t(f"{K}.dw_params", k=cnf.kernel, c=ch), f"{dw_p:,}")
c[1].metric(t(f"{K}.full_params", k=cnf.kernel, c=ch), f"{full_p:,}")
c[2].metric(t(f"{K}.dw_ratio"), f"1/{full_p // dw_p}")

st.subheader(t(f"{K}.se_header"))
st.markdown(t(f"{K}.se_help"))
formula(f"{K}.formula_se")
st.warning(t(f"{K}.se_untrained"))
image = image_input_ui(K)
if image is not None:
    c = st.columns(2)
    seed = int(c[0].number_input(t(f"{K}.se_seed"), 0, 9999, 0, key=f"{K}.seed"))
    model = trunk(seed)
    blocks = eff.se_blocks(model)
    i = c[1].selectbox(t(f"{K}.se_block"), range(len(blocks)), index=len(blocks) - 1, key=f"{K}.block",
                       format_func=lambda j: f"{blocks[j][0]}.{blocks[j][1]}")
    block = blocks[i]
    se = se_result(np.asarray(image), seed, *block)
    st.caption(t(f"{K}.se_block_name", stage=block[0], block=block[1], c=se.u.shape[0], h=se.u.shape[1]))
    st.plotly_chart(figs.plot_se_weights(se, L(channel="se_channel", z="se_z", s="se_s")), key=f"{K}.fig_se")
    st.plotly_chart(figs.plot_se_maps(se, L(before="se_before", after="se_after", channel="se_channel")),
                    key=f"{K}.fig_se_maps")
    st.caption(t(f"{K}.se_maps_caption"))

# 5 · GPipe / accuracy vs parameters ------------------------------------------------------------------------------
st.header(t(f"{K}.gpipe_header"))
st.markdown(t(f"{K}.gpipe_help"))
st.plotly_chart(figs.plot_accuracy_vs_params({n: p.params for n, p in presets.items()},
                                             L("counted", "effnet", "others", "acc", params="params_m")),
                key=f"{K}.fig_gpipe")

show_source(eff.compound_scaling)
show_source(eff.profile)
show_source(eff.mbconv_anatomy)
show_source(eff.squeeze_excitation)
st.caption(t(f"{K}.references"))
