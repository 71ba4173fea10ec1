"""The CTC page's input widgets and cached computations, so that pages/speech/ctc.py reads top to bottom.

Three sources of frame posteriors: an editable matrix (presets), random logits, and real speech through the offline
phoneme recogniser (hama). Each returns a `Source` with log_probs (T, C), the tokens, the blank and the target."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from engine.common.text import normalize_label
from engine.speech import ctc
from engine.figures.speech import ctc as figs
from ui import audio_input_ui, fmt, t

LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_TEXT, MAX_PHONEMES = 200, 600     # characters typed: G2P takes ~27 ms a character (a pasted page: minutes)


@dataclass(frozen=True)
class Source:
    log_probs: np.ndarray       # (T, C) log y_t^k
    tokens: tuple[str, ...]     # (C,) display names, blank first in matrix/random mode
    blank: int
    targets: list[int]          # the target l as label ids
    speech: object | None = None    # (clip, posteriors, log-spectrogram) in speech mode


# Figures are built once per distinct input and shared (st.plotly_chart copies them, nobody mutates them):
# plotly's own object construction is most of a rerun's time.
@st.cache_resource(max_entries=64, show_spinner=False)
def probs_figure(log_probs: np.ndarray, tokens: tuple[str, ...], title: str):
    return figs.plot_probs(log_probs, tokens, title)


@st.cache_resource(max_entries=64, show_spinner=False)
def trellis_figure(log_probs: np.ndarray, targets: tuple[int, ...], blank: int, tokens: tuple[str, ...],
                   quantity: str, paths: tuple[tuple[str, tuple[int, ...]], ...]):
    lat = ctc.lattice(log_probs, targets, blank)
    return figs.plot_trellis(lat, tokens, quantity, blank, {name: np.array(s) for name, s in paths})


@st.cache_resource(max_entries=64, show_spinner=False)
def gradient_figure(log_probs: np.ndarray, targets: tuple[int, ...], blank: int, tokens: tuple[str, ...],
                    rows: tuple[int, ...] | None, title: str):
    return figs.plot_gradient(ctc.gradient(log_probs, targets, blank), tokens, rows, title)


@st.cache_data(max_entries=32, show_spinner=False)
def trellis(log_probs: np.ndarray, targets: tuple[int, ...], blank: int):
    return ctc.lattice(log_probs, targets, blank), ctc.best_alignment(log_probs, targets, blank)


@st.cache_data(max_entries=32, show_spinner=False)
def decode(log_probs: np.ndarray, beam_width: int, blank: int) -> ctc.Decoding:
    return ctc.decode(log_probs, beam_width, blank)


@st.cache_resource(show_spinner=False)
def recognizer():
    """The hama phoneme recogniser, once per process; None plus the reason when its runtime cannot load."""
    from engine.common import phonemes
    try:
        return phonemes.load(), ""
    except Exception as err:  # noqa: BLE001 — any platform failure leaves modes (a) and (b) working
        return None, f"{type(err).__name__}: {err}"


@st.cache_data(max_entries=16, show_spinner=False)
def speech_posteriors(y: np.ndarray, sr: int):
    from engine.common import phonemes
    rec, _ = recognizer()
    return rec.posteriors(y, sr), phonemes.log_spectrogram(y, sr=sr)


@st.cache_data(max_entries=64, show_spinner=False)
def phonemes_to_text(ids: tuple[int, ...]) -> str:
    return recognizer()[0].text(ids)


@st.cache_data(max_entries=64, show_spinner=False)
def text_to_phonemes(text: str) -> list[int]:
    return recognizer()[0].transcribe(text)


def _letters_target(tokens: tuple[str, ...], default: str, variant: str) -> list[int] | None:
    typed = st.text_input(t("ctc.target.input"), default, key=f"ctc.target.{variant}",
                          help=t("ctc.target.help", allowed=" ".join(tokens[1:])), bind="query-params")
    chars = [c for c in normalize_label(typed) if not c.isspace()]   # 「ａｂｃ」 from an IME = "abc"
    bad = sorted({c for c in chars if c not in tokens[1:]})
    if bad:
        st.error(t("ctc.target.unknown", labels=" ".join(bad), allowed=" ".join(tokens[1:])))
        return None
    return [tokens.index(c) for c in chars]


def matrix_ui() -> Source | None:
    name = st.selectbox(t("ctc.matrix.preset"), list(ctc.PRESETS), key="ctc.preset", format_func=fmt("ctc.presets"),
                        bind="query-params")
    p = ctc.preset(name)
    st.caption(t("ctc.matrix.help") + " " + t("ctc.matrix.not_shared"))   # a data editor cannot bind to the URL
    df = pd.DataFrame(p.logits, columns=p.tokens, index=[f"t={i + 1}" for i in range(len(p.logits))])
    edited = st.data_editor(df, key=f"ctc.logits.{name}", width="stretch")
    values = np.nan_to_num(edited.to_numpy(dtype=np.float64), nan=0.0).clip(-20, 20)
    log_probs = ctc.log_softmax(values)
    st.plotly_chart(probs_figure(log_probs, p.tokens, t("ctc.source.probs_title")), key="ctc.probs_fig")
    targets = _letters_target(p.tokens, p.target, name)
    return None if targets is None else Source(log_probs, p.tokens, 0, targets)


def random_ui() -> Source | None:
    c1, c2 = st.columns(2)
    T = c1.slider(t("ctc.random.frames"), 2, 400, 10, key="ctc.T", bind="query-params")
    n_labels = c2.slider(t("ctc.random.labels"), 1, 8, 3, key="ctc.C", bind="query-params")
    temperature = c1.slider(t("ctc.random.temperature"), 0.1, 3.0, 0.7, 0.1, key="ctc.tau",
                            help=t("ctc.random.temperature_help"), bind="query-params")
    seed = c2.number_input(t("ctc.random.seed"), 0, 2**31 - 1, 0, key="ctc.seed", bind="query-params")
    log_probs = ctc.log_softmax(ctc.random_logits(T, n_labels + 1, np.random.default_rng(int(seed))), temperature)
    tokens = ("−", *LETTERS[:n_labels])
    st.plotly_chart(probs_figure(log_probs, tokens, t("ctc.source.probs_title")), key="ctc.probs_fig")
    targets = _letters_target(tokens, " ".join(tokens[1:3]), f"random{n_labels}")
    return None if targets is None else Source(log_probs, tokens, 0, targets)


def speech_ui() -> Source | None:
    """Real speech: an English phoneme recogniser's posteriors, and a target recognised, typed as text, or typed as
    phonemes. None (with the reason on the page) when nothing usable is there."""
    rec, reason = recognizer()
    if rec is None:
        st.warning(t("ctc.speech.unavailable", reason=reason))
        return None
    st.info(t("ctc.speech.model_knows"), icon=":material/info:")
    clip = audio_input_ui("ctc", sr=16000)
    if clip is None:
        return None
    if len(clip.y) < 1600:
        st.warning(t("ctc.speech.too_short"))
        return None
    pg, spec = speech_posteriors(clip.y, clip.sr)
    greedy = ctc.greedy_decode(pg.log_probs, pg.blank)
    st.markdown(t("ctc.speech.recognised", phonemes=rec.spell(greedy) or "∅",
                  text=phonemes_to_text(tuple(greedy)) or "∅", T=len(pg.log_probs), ms=int(round(pg.frame_s * 1000))))
    if st.session_state.get("ctc.sample") == "konnichiwa_sekai" and st.session_state.get("ctc.source") == "default":
        st.warning(t("ctc.speech.foreign"), icon=":material/language:")
    mode = st.radio(t("ctc.speech.target"), ("recognised", "text", "phonemes"), horizontal=True,
                    key="ctc.speech_target", format_func=fmt("ctc.speech.targets"), bind="query-params")
    if mode == "recognised":
        targets = greedy
    elif mode == "text":
        typed = st.text_input(t("ctc.speech.text_input"), phonemes_to_text(tuple(greedy)),
                              max_chars=MAX_TEXT, key="ctc.text",
                              bind="query-params")
        targets = text_to_phonemes(typed)
        st.caption(t("ctc.speech.g2p", phonemes=rec.spell(targets) or "∅"))
    else:
        typed = st.text_input(t("ctc.speech.phoneme_input"), rec.spell(greedy),
                              max_chars=MAX_PHONEMES, key="ctc.phonemes", bind="query-params")
        try:
            targets = rec.parse(typed)
        except ValueError as err:
            st.error(t("ctc.speech.unknown", labels=str(err)))
            return None
    tokens = tuple(pg.token(k) for k in range(len(pg.labels)))
    return Source(pg.log_probs, tokens, pg.blank, list(targets), speech=(clip, pg, spec))
