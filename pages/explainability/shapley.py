"""SHAP: (a) the seed's cooperative game made exact, (b) Kernel SHAP on the reader's image over LIME's superpixels,
(c) TreeSHAP on a table with the additivity check."""
from fractions import Fraction

import numpy as np
import pandas as pd
import streamlit as st

from engine.common import classifier
from engine.explainability import lime_explain
from engine.explainability import shapley
from engine.figures.common import signed
from engine.figures.explainability import shapley as figs
from ui import formula, show_source, t
from ui.models import (array_key, breast_cancer_task, cached_with_progress, classified_image_ui,
                       cancer_name, imagenet_categories)

PLAYERS = "ABCD"


def default_value(s: frozenset, n: int) -> float:
    """Starting values: the seed's prisoner's dilemma for 2 players; for more, |S|² plus a bonus when A and B
    cooperate (so A and B are symmetric, and the others too)."""
    if n == 2:
        return shapley.prisoners_dilemma_game()[s]
    return float(len(s) ** 2 + (2 if {0, 1} <= s else 0))


def name(s: frozenset) -> str:
    return "".join(PLAYERS[i] for i in sorted(s)) or "∅"


def game_ui() -> tuple[int, dict[frozenset, float]]:
    """Number of players and the value of every coalition (editable)."""
    n = st.slider(t("shapley.n_players"), 2, 4, 2, key="shapley.n_players", bind="query-params")
    values: dict[frozenset, float] = {}
    coalitions = shapley.coalitions(n)
    cols = st.columns(4)
    for k, s in enumerate(coalitions):
        with cols[k % 4]:
            values[s] = st.number_input(f"v({{{', '.join(PLAYERS[i] for i in sorted(s))}}})" if s else "v(∅)",
                                        value=default_value(s, n), step=1.0, key=f"shapley.v{n}.{name(s)}",
                                        bind="query-params")
    return n, values


@st.cache_resource(max_entries=1, show_spinner=False)
def table_shap(_task):
    """TreeSHAP of every test row (one fitted task per process, so the resource cache is keyed well)."""
    return shapley.tree_shap(_task.model, _task.X_test)


def frac(w: float) -> str:
    f = Fraction(w).limit_denominator(1000)
    return rf"\tfrac{{{f.numerator}}}{{{f.denominator}}}"


st.title(t("shapley.title"))
st.markdown(t("shapley.intro"))
tab_game, tab_image, tab_table = st.tabs([t("shapley.tab_game"), t("shapley.tab_image"), t("shapley.tab_table")])

# ------------------------------------------------------------------------------------------------ (a) the game
with tab_game:
    st.markdown(t("shapley.game_text"))
    st.table(pd.DataFrame({t("shapley.b_coop"): ["A=2, B=2", "A=3, B=0"], t("shapley.b_defect"): ["A=0, B=3", "A=0, B=0"]},
                          index=[t("shapley.a_coop"), t("shapley.a_defect")]))
    n, values = game_ui()
    v = shapley.table_game(values)
    phi = shapley.shapley_values(v, n)
    orders = shapley.shapley_by_orderings(v, n)

    c1, c2 = st.columns([3, 2])
    with c1:
        st.markdown(t("shapley.orderings", count=len(orders.orders)))
        table = pd.DataFrame(orders.contributions, columns=list(PLAYERS[:n]))
        table.insert(0, t("shapley.order"), [" → ".join(PLAYERS[i] for i in o) for o in orders.orders])
        mean_row = pd.DataFrame([[t("shapley.mean"), *orders.phi]], columns=table.columns)
        st.dataframe(pd.concat([table, mean_row], ignore_index=True), hide_index=True,
                     height=min(35 * (len(table) + 2) + 3, 420))
    with c2:
        st.plotly_chart(figs.plot_phi(phi, list(PLAYERS[:n]), t("shapley.phi_title")), key="shapley.fig_phi")

    formula("shapley.formula_shapley")
    who = st.selectbox(t("shapley.player"), list(range(n)), key="shapley.player", format_func=PLAYERS.__getitem__,
                       bind="query-params")
    terms = shapley.shapley_terms(v, n, who)
    parts = " + ".join(rf"{frac(term.weight)}\,[v(\{{{','.join(PLAYERS[j] for j in sorted(term.coalition | {who}))}\}})"
                       rf" - v(\{{{','.join(PLAYERS[j] for j in sorted(term.coalition))}\}})]" for term in terms)
    nums = " + ".join(rf"{frac(term.weight)}\cdot({term.gain:g})" for term in terms)
    st.latex(rf"\phi_{PLAYERS[who]} = {parts}")
    st.latex(rf"\phi_{PLAYERS[who]} = {nums} = {phi[who]:.4g}")
    full = frozenset(range(n))
    st.markdown(t("shapley.efficiency", total=f"{phi.sum():.4g}", vn=f"{values[full]:g}",
                  v0=f"{values[frozenset()]:g}"))
    st.caption(t("shapley.weight_note"))
    show_source(shapley.shapley_values)
    show_source(shapley.shapley_by_orderings)

# ------------------------------------------------------------------------------------------------ (b) the image
with tab_image:
    st.markdown(t("shapley.image_text", size=classifier.SMALL_INPUT))
    picked = classified_image_ui("shapley")
    if picked is not None:
        model, photo, top = picked
        names = imagenet_categories()
        c1, c2, c3 = st.columns(3)
        target = c1.selectbox(t("shapley.target"), [int(i) for i in top.indices], key="shapley.target",
                              format_func=lambda i: f"{names[i]} ({top.probs[list(top.indices).index(i)]:.1%})",
                              bind="query-params")
        c1.caption(t("common.shared.imagenet_names"))
        n_segments = c2.slider(t("shapley.n_segments"), 8, 60, 24, key="shapley.n_segments", bind="query-params")
        nsamples = c3.slider(t("shapley.nsamples"), 50, 800, 200, 50, key="shapley.nsamples", bind="query-params")
        segments = lime_explain.segment(photo.rgb, "slic", n_segments=n_segments)
        hidden = lime_explain.mean_colour_image(photo.rgb, segments)
        predict = lambda b: classifier.predict_proba(model, b)  # noqa: E731
        key = ("kernel_shap", array_key(photo.rgb), target, n_segments, nsamples)
        res = cached_with_progress(key, lambda p: shapley.image_kernel_shap(
            predict, photo.rgb, target, segments, hidden, nsamples=nsamples, progress=p), t("shapley.computing"))
        c1, c2 = st.columns(2)
        with c1:                        # titles as page text: they wrap in a half-width column
            st.markdown(f"**{t('shapley.image_phi')}**")
            where = shapley.region_labels(segments)
            st.plotly_chart(figs.plot_region_values(photo.rgb, segments, res.values, where.ids, where.rows,
                                                    where.cols, label="φ"), key="shapley.fig_img")
        with c2:
            st.markdown(f"**{t('shapley.image_waterfall')}**")
            st.plotly_chart(figs.plot_waterfall(res.base_value, res.values, [f"#{j}" for j in range(len(res.values))],
                                                res.fx, top=8,
                                                base_label=t("shapley.all_hidden"), rest_label=t("shapley.others"),
                                                fx_label="f(x)"), key="shapley.fig_img_wf")
        st.markdown(t("shapley.additivity", phi0=f"{res.base_value:.4f}", total=signed(res.values.sum()),
                      sum=f"{res.base_value + res.values.sum():.4f}", fx=f"{res.fx:.4f}",
                      gap=f"{res.additivity_gap:.1e}"))
        st.caption(t("shapley.exact_note") if res.exact else t("shapley.sampled_note", n=res.nsamples,
                                                                 m=len(res.values)))
        if st.toggle(t("shapley.compare_lime"), key="shapley.compare_lime", bind="query-params"):
            lkey = ("lime_for_shap", array_key(photo.rgb), target, n_segments, nsamples)
            lres = cached_with_progress(lkey, lambda p: lime_explain.explain_image(
                predict, photo.rgb, target, segments, num_samples=nsamples, seed=0, progress=p),
                t("shapley.computing"))
            st.plotly_chart(figs.plot_side_by_side(lres.coef, res.values, ("LIME w", "SHAP φ"),
                                                   t("shapley.side_by_side"), t("shapley.superpixel")),
                            key="shapley.fig_side")
            rho = float(np.corrcoef(lres.coef, res.values)[0, 1]) if np.std(lres.coef) > 0 else 0.0
            st.caption(t("shapley.side_caption", rho=f"{rho:.2f}"))
        show_source(shapley.image_kernel_shap)

# ------------------------------------------------------------------------------------------------ (c) the table
with tab_table:
    task = breast_cancer_task()
    st.markdown(t("shapley.table_text", n=len(task.X_train) + len(task.X_test), f=len(task.feature_names),
                  acc=f"{task.accuracy:.1%}"))

    tab = table_shap(task)
    row = st.slider(t("shapley.row"), 0, len(task.X_test) - 1, 0, key="shapley.row", bind="query-params")
    p = float(task.model.predict_proba(task.X_test[row:row + 1])[0, 1])
    st.markdown(t("shapley.row_text", truth=cancer_name(task.class_names[task.y_test[row]], "classes"),
                  p=f"{p:.1%}", cls=cancer_name(task.class_names[1], "classes")))
    features = [cancer_name(name) for name in task.feature_names]
    c1, c2 = st.columns(2)
    with c1:
        st.plotly_chart(figs.plot_waterfall(tab.base_value, tab.values[row], features, tab.fx[row], top=10,
                                            title=t("shapley.waterfall"), base_label="φ₀ = E[f(X)]",
                                            rest_label=t("shapley.others"), fx_label="f(x)"),
                        key="shapley.fig_wf")
    with c2:
        st.plotly_chart(figs.plot_beeswarm(tab.values, tab.X, features, top=10,
                                           title=t("shapley.beeswarm"), clabel=t("shapley.feature_value"),
                                           ends=(t("shapley.value_low"), t("shapley.value_high"))),
                        key="shapley.fig_bee")
    formula("shapley.formula_additive")
    st.markdown(t("shapley.additivity", phi0=f"{tab.base_value:.4f}", total=signed(tab.values[row].sum()),
                  sum=f"{tab.base_value + tab.values[row].sum():.4f}", fx=f"{tab.fx[row]:.4f}",
                  gap=f"{tab.additivity_gap[row]:.1e}"))
    st.caption(t("shapley.logodds_note"))
    show_source(shapley.tree_shap)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("shapley")
