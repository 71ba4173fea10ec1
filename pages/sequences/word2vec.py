"""Sequences › Word embeddings: skip-gram and CBOW with negative sampling trained live on text that ships offline
(Python's docs, the app's Japanese text); the embedding space moving, neighbours and analogies of the reader's
words, subsampling and the noise distribution with their numbers, the full softmax against negative sampling.

The math is engine/sequences/word2vec.py (gradients tested against torch autograd, the optima against brute
force, subsampling / noise / analogies against gensim); training runs through the shared run object."""

import streamlit as st

from engine.sequences import word2vec as W
from engine.figures.sequences import word2vec as figs
from ui import charts, fmt, formula, labels, show_source, t, training

st.title(t("word2vec.title"))
st.markdown(t("word2vec.intro"))
lab = labels("word2vec.labels")

# ---- the two models and their losses ----
st.header(t("word2vec.models_header"))
st.markdown(t("word2vec.skipgram_text"))
formula("word2vec.skipgram_formula")
st.markdown(t("word2vec.cbow_text"))
formula("word2vec.cbow_formula")
st.markdown(t("word2vec.softmax_text"))
formula("word2vec.softmax_formula")
st.markdown(t("word2vec.neg_text"))
formula("word2vec.neg_formula")
st.caption(t("word2vec.notes_remark"))

# ---- the text ----
st.header(t("word2vec.corpus_header"))
lang = st.radio(t("word2vec.controls.corpus"), W.LANGS, format_func=fmt("word2vec.corpus"), horizontal=True,
                key="word2vec.corpus", bind="query-params")
c = W.corpus(lang)
st.markdown(t(f"word2vec.corpus_text.{lang}", tokens=f"{c.n_tokens:,}", vocab=f"{len(c.words):,}",
              kept=f"{len(c.ids):,}", train=f"{c.n_train:,}", held=f"{len(c.ids) - c.n_train:,}"))
st.caption(t("word2vec.sample_tokens", words=" / ".join(c.words[int(i)] for i in c.ids[200:230])))

# ---- subsampling ----
st.header(t("word2vec.sub_header"))
st.markdown(t("word2vec.sub_text"))
formula("word2vec.keep_formula")
formula("word2vec.discard_formula")
sample = st.select_slider(t("word2vec.controls.sample"), (0.0, 1e-5, 1e-4, 1e-3, 1e-2), value=1e-3,
                          format_func=lambda v: "0" if v == 0 else f"{v:.0e}", key="word2vec.sample",
                          bind="query-params")
rows = W.subsample_table(c, sample)
st.dataframe({lab["word"]: [r.word for r in rows], lab["count"]: [r.count for r in rows],
              "f(w)": [f"{r.freq:.2e}" for r in rows], lab["keep_code"]: [f"{r.keep:.3f}" for r in rows],
              lab["keep_paper"]: [f"{1 - r.discard_paper:.3f}" for r in rows]}, hide_index=True,
             height=35 * (len(rows) + 1) + 3)                  # every row visible, the rarest word included
st.markdown(t("word2vec.sub_result", share=f"{100 * W.kept_share(c, sample):.1f}", t_value=f"{sample:g}"))
if sample > 0:
    st.plotly_chart(figs.plot_subsampling(c, sample, lab), key="word2vec.fig.sub")

# ---- the noise distribution ----
st.header(t("word2vec.noise_header"))
st.markdown(t("word2vec.noise_text"))
formula("word2vec.noise_formula")
alpha = st.select_slider(t("word2vec.controls.alpha"), (0.0, 0.5, 0.75, 1.0), value=0.75, key="word2vec.alpha",
                         bind="query-params")
top = W.subsample_table(c, sample if sample > 0 else 1e-3, rows=4, power=alpha)   # the most frequent, …, the rarest
st.markdown(t("word2vec.noise_numbers", w1=top[0].word, u1=f"{100 * top[0].noise_unigram:.2f}",
              n1=f"{100 * top[0].noise_34:.2f}", w2=top[-1].word, u2=f"{100 * top[-1].noise_unigram:.4f}",
              n2=f"{100 * top[-1].noise_34:.4f}", alpha=alpha))
st.plotly_chart(figs.plot_noise(c, alpha, lab), key="word2vec.fig.noise")


# ---- live training: skip-gram and CBOW side by side ----
def settings_ui() -> W.W2VConfig:
    c1, c2, c3, c4 = st.columns(4)
    dim = c1.select_slider(t("word2vec.controls.dim"), (10, 25, 50, 100), value=50, key="word2vec.dim",
                           bind="query-params")
    window = c2.slider(t("word2vec.controls.window"), 1, 8, 5, key="word2vec.window", bind="query-params")
    negative = c3.slider(t("word2vec.controls.negative"), 1, 15, 5, key="word2vec.negative", bind="query-params")
    epochs = c4.slider(t("word2vec.controls.epochs"), 1, 20, 10, key="word2vec.epochs", bind="query-params")
    return W.W2VConfig(lang=lang, dim=dim, window=window, negative=negative, sample=sample, ns_exponent=alpha,
                       epochs=epochs)


st.header(t("word2vec.train_header"))
st.markdown(t("word2vec.train_text", target=f"{100 * W.TARGET_PAIR_ACC:.0f}"))
base = settings_ui()
st.caption(t("word2vec.arch_settings", **{f"{a}_{k}": v for a, d in W.ARCH_DEFAULTS.items() for k, v in d.items()}))
words_text = st.text_input(t("word2vec.controls.words"), W.DEFAULT_QUERY[lang], max_chars=W.MAX_QUERY_CHARS,
                           key=f"word2vec.words.{lang}", bind="query-params")
query = W.parse_query(words_text, c)
a0, b0, c0 = W.DEFAULT_ANALOGY[lang]
q1, q2, q3 = st.columns(3)
an_a = q1.text_input(t("word2vec.controls.a"), a0, max_chars=40, key=f"word2vec.a.{lang}", bind="query-params")
an_b = q2.text_input(t("word2vec.controls.b"), b0, max_chars=40, key=f"word2vec.b.{lang}", bind="query-params")
an_c = q3.text_input(t("word2vec.controls.c"), c0, max_chars=40, key=f"word2vec.c.{lang}", bind="query-params")
analogy_q = [W.parse_query(x, c) for x in (an_a, an_b, an_c)]
map_rows = W.map_rows(c, query.known)
map_words = [c.words[i] for i in map_rows]


def show_query_problems() -> None:
    if query.error:
        st.info(t(f"word2vec.query.{query.error}", limit=W.MAX_QUERY_CHARS))
    if query.unknown:
        st.info(t("word2vec.query.unknown", words=", ".join(query.unknown)))
    if query.truncated:
        st.info(t("word2vec.query.truncated", n=W.MAX_QUERY_WORDS))


def draw_archs(run: training.Run) -> None:
    snaps = run.snaps
    charts.live(figs.plot_training(snaps, lab), key="word2vec.fig.train")
    cols = st.columns(2)
    for col, arch in zip(cols, W.ARCHS):
        s = snaps[arch]
        proj = W.project(s.W_in, map_rows)
        with col:
            st.markdown(f"**{lab[arch]}**")
            reached = t("word2vec.reached") if s.metrics["pair_acc"] >= W.TARGET_PAIR_ACC else ""
            st.caption(t("word2vec.status", step=s.step, examples=f"{s.examples:,}",
                         acc=f"{100 * s.metrics['pair_acc']:.1f}", secs=f"{s.seconds:.1f}",
                         speed=f"{s.examples / s.seconds if s.seconds > 0 else 0:,.0f}") + reached)
        charts.live(figs.plot_map(proj, map_words, set(query.known), {**lab, "map_title": lab[arch]}),
                    key=f"word2vec.fig.map.{arch}", where=col)
    st.subheader(t("word2vec.neighbours_header"))
    show_query_problems()
    cols = st.columns(2) if query.known else []
    for col, arch in zip(cols, W.ARCHS):
        lines = [f"**{lab[arch]}** ({lab['neighbours']})"]
        for w in query.known:
            nb = W.nearest(snaps[arch].W_in, c.words, w, k=6)
            lines.append(f"- **{w}** → " + ", ".join(f"{x} ({cs:.2f})" for x, cs in zip(nb.words, nb.cosines)))
        col.markdown("\n".join(lines))
    st.subheader(t("word2vec.analogy_header"))
    if all(q.known and not q.error for q in analogy_q):
        a, b, cc = (q.known[0] for q in analogy_q)
        if len({a, b, cc}) < 3:
            st.info(t("word2vec.analogy_same"))
            return
        cols = st.columns(2)
        for col, arch in zip(cols, W.ARCHS):
            an = W.analogy(snaps[arch].W_in, c.words, a, b, cc, k=5)
            col.markdown(t("word2vec.analogy_result", model=lab[arch], a=a, b=b, c=cc,
                           answers=", ".join(f"{x} ({cs:.2f})" for x, cs in zip(an.words, an.cosines))))
    else:
        missing = [x for q, x in zip(analogy_q, (an_a, an_b, an_c)) if not q.known or q.error]
        st.info(t("word2vec.analogy_missing", words=", ".join(m.strip()[:40] or "∅" for m in missing)))


run = training.start("word2vec", base, W.train_archs, name="archs")
training.live(run, draw_archs)
st.markdown(t("word2vec.train_after"))

# ---- full softmax vs negative sampling ----
st.header(t("word2vec.cost_header"))
st.markdown(t("word2vec.cost_text"))
V, d, k = len(c.words), base.dim, base.negative
flops = {loss: W.flops_per_example("skipgram", loss, V, d, k, base.window) for loss in W.LOSSES}
st.markdown(t("word2vec.cost_flops", V=f"{V:,}", d=d, k=k, neg=f"{flops['neg']:,}", soft=f"{flops['softmax']:,}",
              ratio=f"{flops['softmax'] / flops['neg']:,.0f}"))


def draw_losses(run: training.Run) -> None:
    snaps = run.snaps
    charts.live(figs.plot_training(snaps, lab), key="word2vec.fig.cost")
    speed = {n: (s.examples / s.seconds if s.seconds > 0 else 0.0) for n, s in snaps.items()}
    st.caption(t("word2vec.cost_status", step=snaps["neg"].step,
                 neg_acc=f"{100 * snaps['neg'].metrics['pair_acc']:.1f}",
                 soft_acc=f"{100 * snaps['softmax'].metrics['pair_acc']:.1f}",
                 neg_speed=f"{speed['neg']:,.0f}", soft_speed=f"{speed['softmax']:,.0f}",
                 ratio=f"{speed['neg'] / speed['softmax']:,.1f}" if speed["softmax"] > 0 else "—"))


run_cost = training.start("word2vec", W.W2VConfig(**{**base.__dict__, "epochs": min(base.epochs, 3)}),
                          W.train_losses, name="losses")
training.live(run_cost, draw_losses)
st.markdown(t("word2vec.cost_after"))

st.header(t("word2vec.explain_header"))
st.markdown(t("word2vec.explain_text"))
show_source(W.neg_sampling_grads)
show_source(W.train)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("word2vec")
