"""LIME on the reader's image (superpixels, perturbed samples, π_x weights, surrogate, stability across seeds)
and on a table (LimeTabularExplainer)."""
import numpy as np
import streamlit as st

from engine.common import classifier
from engine.explainability import lime_explain
from engine.figures.explainability import lime_explain as figs
from engine.figures.explainability.gradcam import plot_image
from ui import charts
from ui import fmt, formula, show_source, t
from ui.models import (array_key, imagenet_names_note, breast_cancer_task, cached_with_progress, classified_image_ui,
                       cancer_name, imagenet_categories)


def segmentation_ui() -> dict:
    """Superpixel algorithm and its size parameter."""
    c1, c2 = st.columns(2)
    method = c1.selectbox(t("lime_explain.segmentation"), ("slic", "quickshift"), key="lime_explain.segmentation",
                          format_func=fmt("lime_explain.seg_methods"), bind="query-params")
    if method == "slic":
        return {"method": "slic", "n_segments": c2.slider(t("lime_explain.n_segments"), 8, 80, 30,
                                                          key="lime_explain.n_segments", bind="query-params")}
    return {"method": "quickshift", "kernel_size": c2.slider(t("lime_explain.kernel_size"), 2.0, 8.0, 4.0, 0.5,
                                                             key="lime_explain.kernel_size", bind="query-params")}


def sampling_ui() -> tuple[int, float, int]:
    c1, c2, c3 = st.columns(3)
    num_samples = c1.slider(t("lime_explain.num_samples"), 50, 1000, 200, 50, key="lime_explain.num_samples",
                            bind="query-params")
    kernel_width = c2.slider(t("lime_explain.kernel_width"), 0.05, 1.0, 0.25, 0.05, key="lime_explain.kernel_width",
                             bind="query-params")
    k = c3.slider(t("lime_explain.top_k"), 1, 10, 5, key="lime_explain.top_k", bind="query-params")
    return num_samples, kernel_width, k


@st.cache_data(max_entries=32, show_spinner=False)
def superpixels(rgb: np.ndarray, params: dict) -> np.ndarray:
    return lime_explain.segment(rgb, **params)


@st.cache_data(max_entries=64, show_spinner=False)
def tabular(_task, row: int, n_feat: int, seed: int):
    """LimeTabularExplainer on one test row of the shared task (fitted once per process)."""
    return lime_explain.explain_tabular(_task.model.predict_proba, _task.X_train, _task.X_test[row],
                                        _task.feature_names, _task.class_names, label=1,
                                        num_features=n_feat, num_samples=2000, seed=seed)


R2_POOR = 0.3   # below this weighted R² the surrogate explains little of the model near x: say so


def cancer_rule(rule: str, features: list[str]) -> str:
    """One of LIME's rules ("0.1 < mean radius <= 12.3") with its feature's name in the reader's language."""
    for name in sorted(features, key=len, reverse=True):       # "mean concave points" before shorter names
        if name in rule:
            return rule.replace(name, cancer_name(name), 1)
    return rule

st.title(t("lime_explain.title"))
st.markdown(t("lime_explain.intro"))
formula("lime_explain.formula_loss")
formula("lime_explain.formula_kernel")
tab_image, tab_table = st.tabs([t("lime_explain.tab_image"), t("lime_explain.tab_table")])

# -------------------------------------------------------------------------------------------------------- image
with tab_image:
    picked = classified_image_ui("lime_explain")
    if picked is not None:
        model, photo, top = picked
        names = imagenet_categories()
        probs = dict(zip((int(i) for i in top.indices), top.probs))
        target = st.selectbox(t("lime_explain.target"), list(probs), key="lime_explain.target",
                              format_func=lambda i: f"{names[i]} ({probs[i]:.1%})", bind="query-params")
        imagenet_names_note()
        seg_params = segmentation_ui()
        num_samples, kernel_width, k = sampling_ui()
        seed = int(st.number_input(t("lime_explain.seed"), 0, 10_000, 0, key="lime_explain.seed", bind="query-params"))
        segments = superpixels(photo.rgb, seg_params)
        n_found = int(segments.max()) + 1
        if seg_params["method"] == "slic" and n_found != seg_params["n_segments"]:
            st.caption(t("lime_explain.slic_count", asked=seg_params["n_segments"], got=n_found))
        predict = lambda b: classifier.predict_proba(model, b)  # noqa: E731
        img_key = array_key(photo.rgb)
        seg_key = tuple(sorted(seg_params.items()))
        res = cached_with_progress(
            ("lime", img_key, target, seg_key, num_samples, kernel_width, seed),
            lambda p: lime_explain.explain_image(predict, photo.rgb, target, segments, num_samples, kernel_width,
                                                 seed, progress=p),
            t("lime_explain.computing", n=num_samples))

        st.subheader(t("lime_explain.step1"))
        c1, c2 = st.columns(2)
        with c1:
            st.plotly_chart(figs.plot_segments(photo.rgb, segments, t("lime_explain.segments_title",
                                                                      m=int(segments.max()) + 1)),
                            key="lime_explain.fig_segments")
        with c2:
            st.plotly_chart(plot_image(figs.top_k_image(photo.rgb, segments, res.coef, k),
                                       t("lime_explain.topk_title", k=k)), key="lime_explain.fig_topk")

        st.subheader(t("lime_explain.step2"))
        fudged = lime_explain.mean_colour_image(photo.rgb, segments).astype(np.uint8)
        shown = np.arange(min(6, len(res.data)))
        imgs = lime_explain.perturb(photo.rgb, fudged, segments, res.data[shown])
        titles = [f"z'={int(res.data[i].sum())}/{res.data.shape[1]}<br>f={res.probs[i]:.2f} π={res.weights[i]:.2f}"
                  for i in shown]
        st.markdown(f"**{t('lime_explain.samples_title')}**")     # page text wraps; a figure title would not
        charts.panels(figs.plot_samples(imgs, res.probs[shown], res.weights[shown], titles),
                        key="lime_explain.fig_samples")
        st.plotly_chart(figs.plot_neighbourhood(res.distances, res.probs, res.weights, res.data.sum(1),
                                                t("lime_explain.neighbourhood_title"),
                                                t("lime_explain.distance"), t("lime_explain.prob", name=names[target])),
                        key="lime_explain.fig_neigh")
        st.caption(t("lime_explain.kernel_note"))

        st.subheader(t("lime_explain.step3"))
        c1, c2 = st.columns(2)
        with c1:
            st.plotly_chart(figs.plot_segment_values(photo.rgb, segments, res.coef, t("lime_explain.weights_map")),
                            key="lime_explain.fig_wmap")
        with c2:
            st.plotly_chart(figs.plot_coefficients(res.coef, title=t("lime_explain.weights_bar"),
                                                   xlabel=t("lime_explain.superpixel")),
                            key="lime_explain.fig_wbar")
        order = np.argsort(-np.abs(res.coef))[:3]
        terms = " ".join(f"{'+' if res.coef[j] >= 0 else '-'} {abs(res.coef[j]):.3f}\\,z'_{{{j}}}" for j in order)
        st.latex(rf"g(z') = {res.intercept:.3f} {terms} + \dots")
        st.markdown(t("lime_explain.fit_text", local=f"{res.local_pred:.3f}", model=f"{res.probs[0]:.3f}",
                      r2=f"{res.score:.3f}"))
        if res.score < R2_POOR:
            st.warning(t("lime_explain.poor_fit", r2=f"{res.score:.3f}"))

        st.subheader(t("lime_explain.step4"))
        st.markdown(t("lime_explain.stability_text"))
        c1, c2 = st.columns([1, 2])
        n_seeds = c1.slider(t("lime_explain.n_seeds"), 2, 5, 3, key="lime_explain.n_seeds", bind="query-params")
        if c2.toggle(t("lime_explain.run_stability", n=n_seeds, samples=num_samples), key="lime_explain.stability",
                     bind="query-params"):
            seeds = tuple(range(seed, seed + n_seeds))
            stab = cached_with_progress(
                ("lime_stability", img_key, target, seg_key, num_samples, kernel_width, seeds, k),
                lambda p: lime_explain.stability(predict, photo.rgb, target, segments, seeds, num_samples,
                                                 kernel_width, k, progress=p),
                t("lime_explain.computing", n=num_samples * n_seeds))
            c1, c2 = st.columns(2)
            with c1:
                st.plotly_chart(figs.plot_jaccard(stab.jaccard, stab.seeds, t("lime_explain.jaccard_title", k=k),
                                                  t("lime_explain.seed_label")), key="lime_explain.fig_jac")
            with c2:
                st.plotly_chart(figs.plot_segment_values(photo.rgb, segments, stab.frequency,
                                                         t("lime_explain.frequency_title", k=k),
                                                         label=t("lime_explain.share"), share=True),
                                key="lime_explain.fig_freq")
            st.markdown(t("lime_explain.stability_result", j=f"{stab.mean_jaccard:.2f}", k=k, n=n_seeds))
        show_source(lime_explain.explain_image)
        show_source(lime_explain.stability)

# -------------------------------------------------------------------------------------------------------- table
with tab_table:
    task = breast_cancer_task()
    st.markdown(t("lime_explain.table_text", acc=f"{task.accuracy:.1%}"))
    c1, c2 = st.columns(2)
    row = c1.slider(t("lime_explain.row"), 0, len(task.X_test) - 1, 0, key="lime_explain.row", bind="query-params")
    n_feat = c2.slider(t("lime_explain.n_features"), 3, 12, 8, key="lime_explain.n_features", bind="query-params")

    tl = tabular(task, row, n_feat, 0)
    cls = cancer_name(task.class_names[1], "classes")
    st.markdown(t("lime_explain.row_text", truth=cancer_name(task.class_names[task.y_test[row]], "classes"),
                  p=f"{tl.model_pred:.1%}",
                  g=f"{tl.local_pred:.3f}", r2=f"{tl.score:.3f}", cls=cls))
    if tl.score < R2_POOR:
        st.warning(t("lime_explain.poor_fit_table", r2=f"{tl.score:.3f}",
                     slider=t("lime_explain.n_features")))
    rules = [cancer_rule(rule, task.feature_names) for rule in tl.names]
    st.plotly_chart(figs.plot_tabular(rules, tl.weights, t("lime_explain.tabular_title", cls=cls),
                                      t("lime_explain.weight")), key="lime_explain.fig_tab")
    show_source(lime_explain.explain_tabular)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("lime_explain")
