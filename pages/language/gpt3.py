"""Language › GPT-3: autoregression token by token on a pretrained character GPT, the causal mask, in-context
learning trained live (the shared run object), and a scaling law fitted from a sweep of sizes."""

import numpy as np
import streamlit as st

from engine.figures.language import gpt3 as figs
from engine.language import gpt3
from ui import charts
from ui import formula, labels, show_source, t
from ui import training, warm

st.title(t("gpt3.title"))
st.markdown(t("gpt3.intro"))
lab = labels("gpt3.labels")


@st.cache_resource(max_entries=2, show_spinner=False)   # one model per language
def pretrained(lang: str) -> gpt3.Pretrained:
    return gpt3.load_pretrained(lang)


@st.cache_data(max_entries=64, show_spinner=False)
def generate(model: str, text: str, forced: dict[int, str] | None = None, **kw) -> gpt3.Generation:
    """One continuation, shared by every reader who asks for the same one (most read the default): generating is
    hundreds of tiny torch calls, which many sessions at once slow down far beyond their share of the CPU."""
    return gpt3.generate(pretrained(model), text, forced=forced, **kw)


# ------------------------------------------------------------------------------------------ 1. autoregression
st.header(t("gpt3.ar.header"))
formula("gpt3.ar_formula")
st.markdown(t("gpt3.ar.text"))


def prompt_ui() -> dict:
    names = {k: t(f"gpt3.ar.model_{k}") for k in ("en", "ja")}        # in this run's language (AppTest formats later)
    model = st.radio(t("gpt3.ar.model"), ("en", "ja"), format_func=names.__getitem__,
                     horizontal=True, key="gpt3.model", bind="query-params")
    text = st.text_area(t("gpt3.ar.prompt"), gpt3.DEFAULT_PROMPTS[model], max_chars=10_000, key=f"gpt3.prompt.{model}",
                        bind="query-params")
    c1, c2, c3, c4, c5 = st.columns(5)
    n_new = c1.slider(t("gpt3.ar.n_new"), 1, gpt3.MAX_NEW, 60, key="gpt3.n_new", bind="query-params")
    temperature = c2.slider(t("gpt3.ar.temperature"), 0.0, 2.0, 0.8, 0.05, key="gpt3.temperature", bind="query-params")
    top_k = c3.slider(t("gpt3.ar.top_k"), 0, 50, 0, key="gpt3.top_k", bind="query-params")
    top_p = c4.slider(t("gpt3.ar.top_p"), 0.05, 1.0, 0.95, 0.05, key="gpt3.top_p", bind="query-params")
    seed = c5.number_input(t("gpt3.ar.seed"), 0, 9999, 0, key="gpt3.seed", bind="query-params")
    return dict(model=model, text=text, n_new=n_new, temperature=temperature, top_k=top_k, top_p=top_p,
                seed=int(seed))


p = prompt_ui()
# the model loads once per server and the default continuation is shared: a moving bar while a cold server works
pre = warm.wait_for(pretrained, p["model"], what=t("gpt3.ar.preparing_model"), expect_s=0.5)
st.caption(t("gpt3.ar.model_note", n=gpt3.non_embedding_params(pre.model), vocab=pre.vocab.size,
             loss=pre.meta.get("val_loss", float("nan")), steps=pre.meta.get("steps", 0)))
try:
    chk = gpt3.check_prompt(p["text"], pre.vocab)
except ValueError:
    chk = None
    st.error(t("gpt3.ar.empty"))
if chk is not None:
    if chk.truncated:
        st.warning(t("gpt3.ar.truncated", n=gpt3.MAX_PROMPT))
    if chk.unknown:
        st.warning(t("gpt3.ar.unknown_ja" if p["model"] == "ja" else "gpt3.ar.unknown", chars=" ".join(chk.unknown),
                     pct=100 * chk.unknown_share))
    kw = dict(n_new=p["n_new"], temperature=p["temperature"], top_k=p["top_k"], top_p=p["top_p"], seed=p["seed"])
    gen0 = warm.wait_for(generate, p["model"], chk.text, what=t("gpt3.ar.preparing_text", n=p["n_new"]), expect_s=1.0,
                         **kw)
    s_idx = st.slider(t("gpt3.ar.inspect"), 1, len(gen0.steps), 1, key="gpt3.inspect", bind="query-params") - 1 if len(gen0.steps) > 1 else 0
    force = st.toggle(t("gpt3.ar.force"), False, key="gpt3.force", bind="query-params")
    gen = gen0
    if force:
        choices = [c for c in gen0.steps[s_idx].candidates if c != gen0.steps[s_idx].token]
        new = st.selectbox(t("gpt3.ar.force_token"), choices, format_func=repr, key="gpt3.force_token",
                           bind="query-params")
        gen = generate(p["model"], chk.text, forced={s_idx: new}, **kw)
        st.caption(t("gpt3.ar.force_note", i=s_idx + 1, old=repr(gen0.steps[s_idx].token), new=repr(new),
                     before=gen0.steps[-1].cum_logp, after=gen.steps[-1].cum_logp))
    shown_prompt = chk.text[-300:]
    st.code(("…" if len(chk.text) > 300 else "") + shown_prompt + "⟦" + gen.text[len(chk.text):] + "⟧",
            language=None, wrap_lines=True)
    s = gen.steps[s_idx]
    st.markdown(t("gpt3.ar.step_line", i=s_idx + 1, token=repr(s.token), logp=s.logp, cum=s.cum_logp, kept=s.kept,
                  V=pre.vocab.size, H=s.entropy, ms=gen.ms_per_token))
    c1, c2 = st.columns(2)
    c1.plotly_chart(figs.plot_step_distribution(s, lab), key="gpt3.fig.dist")
    c2.plotly_chart(figs.plot_logp(gen, lab), key="gpt3.fig.logp")
    formula("gpt3.sampling_formula")
    st.markdown(t("gpt3.ar.sampling_text"))

# ------------------------------------------------------------------------------------------ 2. causal mask
st.header(t("gpt3.mask.header"))
formula("gpt3.attn_formula")
st.markdown(t("gpt3.mask.text"))
mask_text = (chk.text if chk is not None else gpt3.DEFAULT_PROMPTS["en"])[-48:]
if len(mask_text) < 2:
    mask_text = gpt3.DEFAULT_PROMPTS["en"][-48:]
cfgm = pre.model.cfg
c1, c2, c3 = st.columns(3)
layer = c1.slider(t("gpt3.mask.layer"), 1, cfgm.n_layer, cfgm.n_layer, key="gpt3.layer", bind="query-params") - 1
head = c2.slider(t("gpt3.mask.head"), 1, cfgm.n_head, 1, key="gpt3.head", bind="query-params") - 1
where = c3.slider(t("gpt3.mask.change_at"), 0, 100, 70, key="gpt3.change_at", bind="query-params")
pos = int(round(where / 100 * (len(mask_text) - 1)))
demo = gpt3.causal_demo(pre, mask_text, layer, head, pos, "x" if mask_text[pos] != "x" else "y")
c1, c2 = st.columns(2)
c1.plotly_chart(figs.plot_attention(demo.attention, demo.tokens, lab,
                                    t("gpt3.mask.att_title", l=layer + 1, h=head + 1)), key="gpt3.fig.att")
c2.plotly_chart(figs.plot_logit_diff(demo, lab), key="gpt3.fig.diff")
st.markdown(t("gpt3.mask.result", pos=demo.changed_at, old=repr(mask_text[pos]), new=repr(demo.new_token),
              before=demo.max_diff_before, after=demo.max_diff_after, upper=demo.upper_mass))

# ------------------------------------------------------------------------------------------ 3. in-context learning
st.header(t("gpt3.icl.header"))
st.markdown(t("gpt3.icl.text"))
formula("gpt3.icl_formula")
st.info(t("gpt3.icl.notes_fix"))


def icl_ui() -> gpt3.ICLConfig:
    c1, c2, c3 = st.columns(3)
    lr = c1.select_slider(t("gpt3.icl.lr"), (1e-3, 2e-3, 3e-3, 5e-3), value=3e-3, key="gpt3.icl.lr",
                          bind="query-params")
    n_head = c2.select_slider(t("gpt3.icl.heads"), (1, 2, 4), value=4, key="gpt3.icl.heads", bind="query-params")
    seed = c3.number_input(t("gpt3.icl.seed"), 0, 9999, 0, key="gpt3.icl.seed", bind="query-params")
    return gpt3.ICLConfig(lr=lr, n_head=n_head, seed=int(seed))


def icl_draw(run: training.Run) -> None:
    s = run.snaps["icl"]
    ev = s.eval
    c1, c2 = st.columns(2)
    charts.live(figs.plot_icl_accuracy(ev, lab), key="gpt3.fig.icl_acc", where=c1)
    curves = {k: run.curve("icl", k) for k in ("acc0", "acc1", "acc2", "acc_max")}
    charts.live(figs.plot_icl_curves(curves, lab), key="gpt3.fig.icl_curves", where=c2)
    st.markdown(t("gpt3.icl.status", step=s.step, secs=s.seconds, acc0=ev.accuracy[0], acc1=ev.accuracy[1],
                  acc2=ev.accuracy[2], opt1=ev.optimum[1], opt2=ev.optimum[2], chance=ev.chance,
                  before=ev.digest_before, after=ev.digest_after,
                  same=t("gpt3.icl.same") if ev.digest_before == ev.digest_after else t("gpt3.icl.changed")))
    for ex in (s.example_seen, s.example_new):
        st.markdown(t("gpt3.icl.example_seen" if ex.seen else "gpt3.icl.example_new", prompt=" ".join(ex.tokens),
                      answer=ex.answer, pred=ex.pred, maps=ex.maps_left, T=icl_cfg.n_tasks, best=ex.optimum))
    score = np.maximum(ev.induction, ev.previous)                      # the head that does more of either
    best = np.unravel_index(int(np.argmax(score)), score.shape)
    c1, c2 = st.columns([1, 1])
    with c1:
        charts.live(figs.plot_heads(ev.induction, ev.previous, lab), key="gpt3.fig.induction")
    ex = s.example_seen
    charts.live(figs.plot_attention(ex.attention[best[0], best[1]], ex.tokens, lab,
                                    t("gpt3.mask.att_title", l=best[0] + 1, h=best[1] + 1)),
                key="gpt3.fig.icl_att", where=c2)


icl_cfg = icl_ui()
icl_run = training.start("gpt3", icl_cfg, lambda c: {"icl": gpt3.train_icl(c)}, name="icl")
training.live(icl_run, icl_draw)
st.markdown(t("gpt3.icl.after"))

# ------------------------------------------------------------------------------------------ 4. scaling law
st.header(t("gpt3.scaling.header"))
formula("gpt3.kaplan_formula")
st.markdown(t("gpt3.scaling.text"))
st.warning(t("gpt3.scaling.notes_fix"))
if not gpt3.SCALING_JSON.exists():
    st.info(t("gpt3.scaling.missing"))
    st.stop()
sweep = gpt3.load_sweep()
rows = sweep["rows"]
fit = gpt3.fit_power_law([r["n_params"] for r in rows], [r["val_loss"] for r in rows])
sizes = [(r["n_layer"], r["n_head"], r["n_embd"]) for r in rows]
size_names = {z: t("gpt3.scaling.size", L=z[0], H=z[1], C=z[2]) for z in sizes[:3]}
size = st.selectbox(t("gpt3.scaling.rerun"), sizes[:3], format_func=size_names.__getitem__, key="gpt3.scaling.size",
                    bind="query-params")


def scaling_draw(run: training.Run) -> None:
    s = run.snaps["size"]
    row = rows[sizes.index(size)]
    live = (row["n_params"], s.metrics["val_loss"]) if s.step == gpt3.SWEEP_TRAIN["steps"] else None
    charts.live(figs.plot_scaling(rows, fit, lab, live), key="gpt3.fig.scaling")
    st.markdown(t("gpt3.scaling.live", step=s.step, total=gpt3.SWEEP_TRAIN["steps"], loss=s.metrics["val_loss"],
                  ref=row["val_loss"]))


def scaling_make(z) -> dict:
    return {"size": gpt3.sweep_run(tuple(z))}


sc_run = training.start("gpt3", size, scaling_make, name="scaling")
training.live(sc_run, scaling_draw)
st.markdown(t("gpt3.scaling.fit", alpha=fit.alpha, lo=fit.alpha_lo, hi=fit.alpha_hi, n=fit.n_points,
              steps=gpt3.SWEEP_TRAIN["steps"]))
g_n = gpt3.gpt3_non_embedding()
st.plotly_chart(figs.plot_kaplan(np.array([r["n_params"] for r in rows], float), g_n, lab), key="gpt3.fig.kaplan")
st.markdown(t("gpt3.scaling.gpt3", n=g_n, loss=float(gpt3.kaplan_loss(g_n)), **gpt3.GPT3))
show_source(gpt3.CausalSelfAttention.forward)
show_source(gpt3.truncated_probs)
show_source(gpt3.icl_posterior)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("gpt3")
