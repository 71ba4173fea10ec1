"""Streamlit helpers of the BERT chapter: the shared MiniLM (loaded once per process) and cached computations."""
from __future__ import annotations

import streamlit as st

from engine.language import bert


@st.cache_resource(show_spinner=False)
def minilm() -> bert.Pretrained:
    """all-MiniLM-L6-v2 in the project's own encoder: eval mode, frozen, shared read-only by every session."""
    return bert.load_minilm()


def minilm_or_error() -> bert.Pretrained | None:
    """The shared model, or None with the reason shown on the page (no package, no network)."""
    from ui import t, warm

    try:   # a moving bar while a server that has just started loads it (issue #29)
        return warm.wait_for(minilm, what=t("bert.preparing_model"), expect_s=2.0)
    except bert.WeightsUnavailable as err:
        st.error(t("bert.no_weights", reason=str(err)), icon=":material/warning:")
        return None


@st.cache_data(max_entries=32, show_spinner=False)
def attention(text_a: str, text_b: str | None) -> tuple[bert.Attention, bert.Embeddings, bert.Highlights]:
    pre = minilm()
    enc = bert.encode_input(pre.tokenizer, text_a, text_b)
    att = bert.attention(pre, enc)
    return att, bert.input_embeddings(pre, enc), bert.highlights(att)


@st.cache_data(max_entries=16, show_spinner=False)
def contextual(a: str, b: str, word: str) -> bert.Contextual:
    return bert.contextual_similarity(minilm(), a, b, word)


@st.cache_resource(max_entries=4, show_spinner=False)
def tiny_data(vocab_cap: int, max_sentences: int, text: str | None) -> bert.TinyData:
    """The corpus in the tiny model's vocabulary (read-only once built)."""
    cfg = bert.PretrainConfig(vocab_cap=vocab_cap, max_sentences=max_sentences, text=text)
    return bert.build_data(minilm().tokenizer, cfg)


@st.cache_data(max_entries=2, show_spinner=False)
def finetune() -> tuple[bert.SentenceSet, bert.FinetuneCurve]:
    data = bert.topic_sentences()
    cls_x, mean_x = bert.sentence_vectors(minilm(), data.sentences)
    return data, bert.finetune_curve(cls_x, mean_x, data.labels)


@st.cache_data(max_entries=1, show_spinner=False)
def sizes() -> tuple[bert.SizeRow, ...]:
    return bert.model_sizes()
