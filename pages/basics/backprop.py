"""Basics › Backpropagation: a typed expression (parsed safely) as a computational graph, the backward pass node by
node, a central-difference gradient check, and vanishing / exploding gradients through a deep MLP."""
import streamlit as st

from engine.basics import backprop as B
from engine.figures.basics import backprop as figs
from ui import fmt, formula, labels, show_source, t

K = "backprop"
HS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12)
SIGMAS = (0.01, 0.05, 0.1, 0.5, 1.0)


@st.cache_data(max_entries=64, show_spinner=False)
def build(text: str, values: tuple) -> tuple[B.Graph, list[B.Step]]:
    graph = B.parse(text, dict(values))
    return graph, B.backward(graph)


@st.cache_data(max_entries=32, show_spinner=False)
def check(text: str, values: tuple, h: float) -> B.GradCheck:
    return B.grad_check(B.parse(text, dict(values)), h)


@st.cache_data(max_entries=32, show_spinner=False)
def sweep(n_layers: int, init: str, sigma: float) -> B.DepthSweep:
    return B.depth_sweep(n_layers, init, sigma)


def use_preset() -> None:
    st.session_state[f"{K}.expr"] = B.PRESETS[st.session_state[f"{K}.preset"]]


def show_error(err: B.ExprError) -> None:
    st.error(t(f"{K}.errors.{err.code}", **err.params))


def values_ui(names) -> tuple:
    cols = st.columns(max(len(names), 1))
    return tuple((n, c.number_input(n, -10.0, 10.0, B.DEFAULT_VALUES[n], 0.1, format="%.2f", key=f"{K}.v.{n}",
                                    bind="query-params")) for n, c in zip(names, cols))


st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))

# ---- 1. the computational graph --------------------------------------------------------------------------------
st.header(t(f"{K}.graph_header"))
st.markdown(t(f"{K}.graph_text"))
formula(f"{K}.chain_formula")
st.selectbox(t(f"{K}.preset"), tuple(B.PRESETS), format_func=fmt(f"{K}.presets"), key=f"{K}.preset",
             on_change=use_preset, bind="query-params")
text = st.text_input(t(f"{K}.expr"), B.PRESETS["sum_product"], max_chars=B.MAX_CHARS, key=f"{K}.expr",
                     bind="query-params")
st.caption(t(f"{K}.expr_help", names=", ".join(B.VARIABLES), functions=", ".join(B.FUNCTIONS)))
graph = steps = values = None
try:
    names = tuple(B.parse(text).variables)                  # which numbers to ask for
    values = values_ui(names)
    graph, steps = build(text, values)
except B.ExprError as err:
    show_error(err)

if graph is not None:
    n = len(steps)
    k = 0
    if n:
        k = st.slider(t(f"{K}.step"), 0, n, min(1, n), key=f"{K}.step.{n}", bind="query-params",
                      help=t(f"{K}.step_help"))
    st.plotly_chart(figs.plot_graph(graph, steps, k, labels(f"{K}.fig")), key=f"{K}.fig_graph")
    out = graph.output
    if k == 0:
        st.markdown(t(f"{K}.step0", f=f"{out.value:.4g}"))
    else:
        s = steps[k - 1]
        node, fan = graph.nodes[s.node], B.fan_out(graph)
        lines = [t(f"{K}.step_node", k=k, n=n, node=node.label, up=f"{s.upstream:.4g}")]
        for e in s.edges:
            src = graph.nodes[e.source]
            lines.append(t(f"{K}.step_edge", src=src.label, up=f"{s.upstream:.4g}", local=f"{e.local:.4g}",
                           down=f"{e.downstream:.4g}", total=f"{s.grads[e.source]:.4g}"))
            if fan[e.source] > 1:
                lines.append(t(f"{K}.step_fan", src=src.label, m=fan[e.source]))
        st.markdown("\n".join(lines))
    final = steps[-1].grads if steps else (1.0,)
    st.dataframe([{t(f"{K}.col_node"): f"{nd.id}: {nd.label}", t(f"{K}.col_value"): nd.value,
                   t(f"{K}.col_local"): ", ".join(f"∂/∂{graph.nodes[i].label} = {v:.4g}"
                                                 for i, v in zip(nd.inputs, nd.local)),
                   t(f"{K}.col_grad"): final[nd.id]} for nd in graph.nodes],
                 hide_index=True, key=f"{K}.table")
    st.caption(t(f"{K}.table_caption"))
    show_source(B.backward)
    show_source(B.local_grads)

    # ---- 2. numerical gradient check ---------------------------------------------------------------------------
    st.header(t(f"{K}.check_header"))
    st.markdown(t(f"{K}.check_text"))
    formula(f"{K}.central_formula")
    formula(f"{K}.rel_formula")
    h = st.select_slider(t(f"{K}.h"), HS, 1e-5, format_func=lambda v: f"{v:.0e}", key=f"{K}.h",
                         bind="query-params")
    gc = check(text, values, h)
    st.dataframe([{t(f"{K}.col_var"): name, t(f"{K}.col_auto"): gc.autograd[i], t(f"{K}.col_num"): gc.numerical[i],
                   t(f"{K}.col_rel"): f"{gc.rel_error[i]:.2e}"} for i, name in enumerate(gc.names)],
                 hide_index=True, key=f"{K}.check_table")
    st.plotly_chart(figs.plot_grad_check(gc, labels(f"{K}.fig")), key=f"{K}.fig_check")
    st.caption(t(f"{K}.check_caption"))
    show_source(B.numerical_gradient)

# ---- 3. vanishing and exploding gradients ------------------------------------------------------------------------
st.header(t(f"{K}.deep_header"))
st.markdown(t(f"{K}.deep_text"))
formula(f"{K}.forward_formula")
formula(f"{K}.delta_formula")
formula(f"{K}.sigmoid_formula")
formula(f"{K}.init_formula")
c = st.columns(3)
init = c[0].selectbox(t(f"{K}.init"), B.INITS, 2, format_func=fmt(f"{K}.inits"), key=f"{K}.init",
                      bind="query-params")
sigma = c[1].select_slider(t(f"{K}.sigma"), SIGMAS, 0.05, key=f"{K}.sigma", bind="query-params",
                           help=t(f"{K}.sigma_help"))
n_layers = c[2].slider(t(f"{K}.layers"), 1, B.MAX_LAYERS, 20, key=f"{K}.layers", bind="query-params")
sw = sweep(n_layers, init, float(sigma))
lab = labels(f"{K}.fig")
st.plotly_chart(figs.plot_layer_norms(sw, lab), key=f"{K}.fig_layers")
st.plotly_chart(figs.plot_depth(sw, n_layers, lab), key=f"{K}.fig_depth")
st.dataframe([{t(f"{K}.col_act"): lab[act], t(f"{K}.col_first"): f"{sw.per_layer[act][0]:.3g}",
               t(f"{K}.col_last"): f"{sw.per_layer[act][-1]:.3g}"} for act in B.ACTIVATIONS],
             hide_index=True, key=f"{K}.deep_table")
st.caption(t(f"{K}.deep_caption", L=n_layers, width=B.WIDTH, batch=B.BATCH))
st.markdown(t(f"{K}.deep_{init}"))
show_source(B.mlp_grad_norms)
st.caption(t(f"{K}.references"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("backprop")
