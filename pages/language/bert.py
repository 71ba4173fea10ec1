"""Language › BERT: attention inside a real pretrained encoder (all-MiniLM-L6-v2, run by the project's own forward
pass), the three input embeddings, contextual vectors, MLM + NSP pre-training of a tiny BERT live, a classifier on
frozen sentence vectors, and model sizes."""
import pandas as pd
import streamlit as st

from engine.language import bert
from engine.figures.language import bert as figs
from ui import bert as cached
from ui import charts
from ui import fmt, formula, labels, show_source, t
from ui import training, warm

MAX_CORPUS = 200_000          # characters of the reader's own corpus

st.title(t("bert.title"))
st.markdown(t("bert.intro"))
lab = labels("bert.labels")

pre = cached.minilm_or_error()


def input_ui() -> tuple[str, str | None]:
    """The reader's sentence, or a pair (A, B)."""
    text_a = st.text_area(t("bert.input.text_a"), bert.EXAMPLE_A, max_chars=bert.MAX_CHARS,
                          key="bert.text_a", height=80, bind="query-params")
    pair = st.toggle(t("bert.input.pair"), value=False, key="bert.pair", bind="query-params")
    text_b = st.text_input(t("bert.input.text_b"), bert.EXAMPLE_B, max_chars=bert.MAX_CHARS,
                           key="bert.text_b", bind="query-params") if pair else None
    return text_a, text_b


def _has_words(text: str) -> bool:
    """Whether the encoder has a word to read in `text` (not empty, not only special tokens such as [SEP])."""
    try:
        bert.encode_input(pre.tokenizer, text)
    except ValueError:
        return False
    return True


def head_ui(n_layers: int, n_heads: int, default: tuple[int, int]) -> tuple[int, int]:
    c1, c2 = st.columns(2)
    layer = c1.slider(t("bert.attn.layer"), 1, n_layers, default[0] + 1, key="bert.layer", bind="query-params")
    head = c2.slider(t("bert.attn.head"), 1, n_heads, default[1] + 1, key="bert.head", bind="query-params")
    return layer - 1, head - 1


def draw(run: training.Run) -> None:
    s = run.snaps["tiny"]
    c1, c2, c3 = st.columns(3)
    c1.metric(t("bert.mlm.metric_step"), f"{s.step:,}")
    for col, key, name in ((c2, "mlm_acc", "metric_top1"), (c3, "nsp_acc", "metric_nsp")):
        if key in s.metrics:
            col.metric(t(f"bert.mlm.{name}"), f"{s.metrics[key]:.3f}")
        else:                          # step 0 (and after Reset): nothing measured yet
            col.metric(t(f"bert.mlm.{name}"), t("bert.mlm.metric_none"), help=t("bert.mlm.metric_none_help"))
    curves = {m: run.curve("tiny", m) for m in ("mlm_loss", "mlm_acc", "nsp_acc")}
    charts.live(figs.plot_pretrain_curves(curves, labels=lab), key="bert.fig.curves")
    st.markdown(t("bert.mlm.probe_seen", tokens=" ".join(s.probe_tokens)))
    if s.fills:
        charts.live(figs.plot_fills(s, labels=lab), key="bert.fig.fills")
    else:
        st.info(t("bert.mlm.no_mask"))


# --------------------------------------------------------------------------------------------- 1. attention
st.header(t("bert.attn.header"))
st.markdown(t("bert.attn.text"))
formula("bert.attention")
if pre is not None:
    text_a, text_b = input_ui()
    try:
        att, emb, hl = cached.attention(text_a, text_b)
    except ValueError:
        st.error(t("bert.input.empty"))
        att = None
    if att is not None:
        enc = att.encoding
        if enc.truncated:
            st.warning(t("bert.input.truncated", n=bert.MAX_TOKENS, chars=bert.MAX_CHARS))
        if bert.has_japanese(text_a + (text_b or "")):
            st.info(t("bert.input.japanese", unk=enc.n_unk))
        elif enc.n_unk:
            st.info(t("bert.input.unk", unk=enc.n_unk))
        st.caption(t("bert.input.segments", tokens=" ".join(f"{tok}·{s}" for tok, s in
                                                          zip(enc.tokens, enc.token_type_ids))))
        st.caption(t("bert.attn.timing", T=len(enc.tokens), ms=1000 * att.seconds))
        L, A = att.sink.shape
        layer, head = head_ui(L, A, hl.link[:2] if hl.link else (2, 0))
        st.plotly_chart(figs.plot_head_grid(att, (layer, head), labels=lab), key="bert.fig.grid")
        st.caption(t("bert.attn.grid_caption"))
        c1, c2 = st.columns([3, 2])
        c1.plotly_chart(figs.plot_head_map(att, layer, head, labels=lab), key="bert.fig.map")
        c2.plotly_chart(figs.plot_head_view(att, layer, head, labels=lab), key="bert.fig.view")

        st.subheader(t("bert.heads.header"))
        charts.panels(figs.plot_head_scores(att, labels=lab), key="bert.fig.scores")
        st.markdown(t("bert.heads.sink", layer=hl.sink[0] + 1, head=hl.sink[1] + 1, w=hl.sink[2]))
        st.markdown(t("bert.heads.previous", layer=hl.previous[0] + 1, head=hl.previous[1] + 1, w=hl.previous[2]))
        if hl.link is not None:
            st.markdown(t("bert.heads.link", layer=hl.link[0] + 1, head=hl.link[1] + 1, w=hl.link[2]))
        else:
            st.caption(t("bert.heads.no_link"))

        # ----------------------------------------------------------------------------------- 2. embeddings
        st.header(t("bert.emb.header"))
        st.markdown(t("bert.emb.text"))
        formula("bert.embeddings")
        T, H = emb.token.shape
        st.caption(t("bert.emb.shapes", T=T, H=H, V=len(pre.tokenizer)))
        if st.toggle(t("bert.emb.show"), value=False, key="bert.show_emb", bind="query-params"):     # heavy figure: on request
            st.plotly_chart(figs.plot_embeddings(emb, labels=lab), key="bert.fig.emb")
        show_source(bert.BertEncoder.forward)

    # --------------------------------------------------------------------------------------- contextual vectors
    st.header(t("bert.ctx.header"))
    st.markdown(t("bert.ctx.text"))
    formula("bert.cosine")
    c1, c2, c3 = st.columns([2, 2, 1])
    s1 = c1.text_input(t("bert.ctx.s1"), bert.CONTEXT_1, max_chars=300, key="bert.ctx1", bind="query-params")
    s2 = c2.text_input(t("bert.ctx.s2"), bert.CONTEXT_2, max_chars=300, key="bert.ctx2", bind="query-params")
    word = c3.text_input(t("bert.ctx.word"), "bank", max_chars=30, key="bert.ctx_word", bind="query-params")
    empty = [n for n, s in ((1, s1), (2, s2)) if not _has_words(s)]
    ctx = None if empty else cached.contextual(s1, s2, word)
    if ctx is None:                    # clearing a box to type a new sentence: say so, keep the rest of the page
        st.warning(t("bert.ctx.empty", n=" · ".join(map(str, empty))))
    elif not all(ctx.found):
        st.warning(t("bert.ctx.not_found", word=word))
    else:
        st.plotly_chart(figs.plot_contextual(ctx, labels=lab), key="bert.fig.ctx")
        st.markdown(t("bert.ctx.result", first=ctx.per_layer[0], last=ctx.per_layer[-1]))

# ------------------------------------------------------------------------------------------- 3. MLM + NSP
st.header(t("bert.mlm.header"))
st.markdown(t("bert.mlm.text"))
formula("bert.loss")
if pre is None:
    st.stop()
demo_seed = st.number_input(t("bert.mlm.redraw"), 0, 9999, 0, key="bert.mask_seed", bind="query-params")
orig, seen, kind = bert.masking_demo(pre.tokenizer, bert.DEMO_SENTENCE, int(demo_seed))
marks = {0: "{}", 1: "**{}**", 2: "*{}*", 3: "<u>{}</u>"}
st.markdown(t("bert.mlm.demo", original=" ".join(orig),
              seen=" ".join(marks[int(k)].format(s) for s, k in zip(seen, kind))), unsafe_allow_html=True)
st.caption(t("bert.mlm.demo_legend"))
ms = bert.masking_stats(pre.tokenizer, bert.DEMO_SENTENCE)
k_drawn = int((kind > 0).sum())
st.caption(t("bert.mlm.demo_stats", k=k_drawn, n=ms.n_tokens, share=100 * k_drawn / max(ms.n_tokens, 1),
             draws=ms.draws, chosen=100 * ms.chosen, mask=100 * ms.mask, random=100 * ms.random, kept=100 * ms.kept))

with st.sidebar:
    st.subheader(t("bert.mlm.controls"))
    corpus = st.radio(t("bert.mlm.corpus"), ("pydoc", "own"), format_func=fmt("bert.mlm.corpus_opt"),
                      key="bert.corpus", bind="query-params")
    lr = st.select_slider(t("bert.mlm.lr"), (5e-4, 1e-3, 2e-3, 5e-3), value=2e-3, key="bert.lr", bind="query-params")
    seed = st.number_input(t("bert.mlm.seed"), 0, 9999, 0, key="bert.seed", bind="query-params")
own = None
if corpus == "own":
    own = st.text_area(t("bert.mlm.own_text"), bert.OWN_CORPUS, max_chars=MAX_CORPUS, key="bert.own",
                       bind="query-params")
    st.caption(t("bert.mlm.own_help"))
probe = st.text_input(t("bert.mlm.probe"), bert.PROBE, max_chars=300, key="bert.probe", bind="query-params")
cfg = bert.PretrainConfig(lr=lr, seed=int(seed), probe=probe, text=own)
try:
    data = warm.wait_for(cached.tiny_data, cfg.vocab_cap, cfg.max_sentences, own, what=t("bert.preparing_corpus"),
                         expect_s=1.0)
except bert.CorpusError as err:     # the reason in the reader's language; fine-tuning and sizes below still show
    st.error(t("bert.mlm.corpus_error", reason=t(f"bert.mlm.corpus_reason.{err.code}", **err.details)))
    data = None
if data is not None:
    st.caption(t("bert.mlm.data", docs=len(data.docs), tokens=data.n_tokens, V=len(data.vocab)))
    run = training.start("bert", cfg, lambda c: {"tiny": bert.train_pretraining(c, pre.tokenizer, data)})
    training.live(run, draw)
    st.caption(t("bert.mlm.model", params=run.snaps["tiny"].n_parameters, H=cfg.hidden_size,
                 L=cfg.num_hidden_layers, A=cfg.num_attention_heads))
show_source(bert.mask_tokens)
show_source(bert.make_pairs)

# ------------------------------------------------------------------------------------------- 4. fine-tuning
st.header(t("bert.ft.header"))
st.markdown(t("bert.ft.text"))
ft_data, curve = warm.wait_for(cached.finetune, what=t("bert.ft.computing"), expect_s=3.0)   # once per server
st.plotly_chart(figs.plot_finetune(curve, labels=lab), key="bert.fig.ft")
st.caption(t("bert.ft.caption", classes=", ".join(ft_data.classes), n=len(ft_data.sentences), test=curve.n_test,
             last=int(curve.n_per_class[-1]), cls=curve.acc_cls[-1].mean(), mean=curve.acc_mean[-1].mean()))

# ------------------------------------------------------------------------------------------- 5. sizes + notes
st.header(t("bert.sizes.header"))
rows = cached.sizes()
st.dataframe(pd.DataFrame({t("bert.sizes.model"): [r.name for r in rows], "L": [r.layers for r in rows],
                           "H": [r.hidden for r in rows], "A": [r.heads for r in rows],
                           t("bert.sizes.counted"): [f"{r.parameters / 1e6:.1f}M" for r in rows],
                           t("bert.sizes.paper"): [r.paper for r in rows]}), hide_index=True)
st.caption(t("bert.sizes.caption"))
st.header(t("bert.notes.header"))
st.markdown(t("bert.notes.text"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("bert")
