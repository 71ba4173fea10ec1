"""Speech › Spectrogram & MFCC: one clip through every stage of the classic feature pipeline."""
from dataclasses import replace

import numpy as np
import streamlit as st

from engine.speech import audio
from engine.figures.speech import audio as figs
from ui import audio_input_ui, fmt, formula, labels, show_source, t

MAX_FRAMES = 3000   # a bound on STFT columns: short hops on long clips are widened to keep the page light

st.title(t("audio.title"))
st.markdown(t("audio.intro"))


def settings_ui() -> dict:
    """Pipeline settings in the sidebar; returns plain values."""
    with st.sidebar:
        st.subheader(t("audio.controls.header"))
        sr = st.selectbox(t("audio.controls.sr"), (16000, 22050, 8000), key="audio.sr", bind="query-params")
        n_fft = st.select_slider(t("audio.controls.n_fft"), (256, 512, 1024, 2048, 4096), value=512,
                                 key="audio.n_fft", bind="query-params")
        hop = st.slider(t("audio.controls.hop_length"), 32, 2048, 128, step=32, key="audio.hop", bind="query-params")
        window = st.radio(t("audio.controls.window"), audio.WINDOWS, format_func=fmt("audio.window"),
                          key="audio.window", horizontal=True,
                          bind="query-params")
        n_mels = st.slider(t("audio.controls.n_mels"), 8, 128, 64, key="audio.n_mels", bind="query-params")
        n_mfcc = st.slider(t("audio.controls.n_mfcc"), 2, 40, 20, key="audio.n_mfcc", bind="query-params")
        htk = st.toggle(t("audio.controls.htk"), value=True, key="audio.htk", bind="query-params")
        used_mels = min(n_mels, n_fft // 2)
        if used_mels < n_mels:
            st.caption(t("audio.clamped_mels", asked=n_mels, used=used_mels, n_fft=n_fft))
        if n_mfcc > used_mels:
            st.caption(t("audio.clamped_mfcc", asked=n_mfcc, used=used_mels))
    return dict(sr=sr, n_fft=n_fft, hop_length=hop, window=window, n_mels=used_mels, n_mfcc=min(n_mfcc, used_mels),
                htk=htk)


@st.cache_data(max_entries=32, show_spinner=False)
def compute(y: np.ndarray, sr: int, n_fft: int, hop_length: int, window: str, n_mels: int, n_mfcc: int,
            htk: bool) -> audio.Features:
    return audio.features(y, sr=sr, n_fft=n_fft, hop_length=hop_length, window=window, n_mels=n_mels,
                          n_mfcc=min(n_mfcc, n_mels), htk=htk)


@st.cache_data(max_entries=8, show_spinner=False)
def measure(n_fft: int, nonce: int) -> audio.DFTTiming:
    sizes = [n for n in (32, 64, 128, 256, 512, 1024, 2048) if n <= max(n_fft, 256)]
    return audio.time_dft(sizes, rng=np.random.default_rng(nonce))


@st.cache_data(max_entries=16, show_spinner=False)
def naive_dft(x: np.ndarray) -> np.ndarray:
    return audio.dft_naive(x)


p = settings_ui()
clip = audio_input_ui("audio", sr=p["sr"])
if clip is None:
    st.stop()

y, sr = clip.y, clip.sr
hop = max(p["hop_length"], int(np.ceil(len(y) / MAX_FRAMES)))
lab = labels("audio.labels")

# ---- 1. waveform ------------------------------------------------------------------------------------------
st.header(t("audio.input_header"))
st.audio(y, sample_rate=sr)
f = compute(y, sr, p["n_fft"], hop, p["window"], p["n_mels"], p["n_mfcc"], p["htk"])
T = f.log_mel.shape[1]
energy = f.log_mel.mean(axis=0)

# ---- 2. framing and window ----------------------------------------------------------------------------------
st.header(t("audio.frame_header"))
st.markdown(t("audio.frame_text"))
formula("audio.frame_formula")
# the frame slider keeps its place in time when hop or n_fft change the number of frames
last_s = st.session_state.get("audio.frame_s")
start = int(np.argmax(energy)) if last_s is None else int(np.clip(round(last_s * sr / hop), 0, T - 1))
frame_idx = st.slider(t("audio.controls.frame"), 0, T - 1, start, key=f"audio.frame.{T}", bind="query-params")
st.session_state["audio.frame_s"] = frame_idx * hop / sr
padded = np.pad(y, p["n_fft"] // 2)
samples = padded[frame_idx * hop: frame_idx * hop + p["n_fft"]]
win = audio.get_window(p["window"], p["n_fft"])
start_s = frame_idx * hop / sr - p["n_fft"] / 2 / sr
st.plotly_chart(figs.plot_waveform(y, sr, span=(start_s, start_s + p["n_fft"] / sr), labels=lab))
st.caption(t("audio.wave_caption", name=clip.name, seconds=len(y) / sr, sr=sr, n=len(y)))
st.plotly_chart(figs.plot_frame(samples, win, sr, labels=lab))
outside = audio.padding_share(len(y), frame_idx, hop, p["n_fft"])
if outside > 0:
    st.caption(t("audio.padding_note", pct=100 * outside))
show_source(audio.frame)

# ---- 3. DFT: naive vs FFT -----------------------------------------------------------------------------------
st.header(t("audio.dft_header"))
windowed = (samples * win).astype(np.float64)
naive = naive_dft(windowed)
fast = np.fft.rfft(windowed)
st.markdown(t("audio.dft_text", diff=float(np.max(np.abs(naive - fast)))))
formula("audio.dft_formula")
st.plotly_chart(figs.plot_dft(f.freqs, naive, fast, labels=lab))
nonce = st.session_state.get("audio.nonce", 0)
if st.button(t("audio.remeasure"), key="audio.remeasure"):
    st.session_state["audio.nonce"] = nonce = nonce + 1
st.plotly_chart(figs.plot_dft_timing(measure(p["n_fft"], nonce), labels=lab))
st.caption(t("audio.timing_caption"))
show_source(audio.dft_naive)

# ---- 4. STFT ------------------------------------------------------------------------------------------------
st.header(t("audio.stft_header"))
st.markdown(t("audio.stft_text"))
formula("audio.stft_formula")
st.plotly_chart(figs.plot_spectrogram(f, frame=frame_idx, labels=lab))
show_source(audio.stft)

# ---- 5. mel scale and filterbank ------------------------------------------------------------------------------
st.header(t("audio.mel_header"))
st.markdown(t("audio.mel_text"))
formula("audio.mel_formula")
st.caption(t("audio.mel_htk_note"))
col1, col2 = st.columns(2)
col1.plotly_chart(figs.plot_mel_scale(sr, htk=p["htk"], labels=lab))
col2.plotly_chart(figs.plot_filterbank(f, frame_idx, labels=lab))
drawn = len(range(0, p["n_mels"], figs.filterbank_step(p["n_mels"])))
col2.caption(t("audio.filterbank_caption", frame=frame_idx, drawn=drawn, n_mels=p["n_mels"]))
formula("audio.fb_formula")
show_source(audio.mel_filterbank)

# ---- 6. log-mel -----------------------------------------------------------------------------------------------
st.header(t("audio.logmel_header"))
st.markdown(t("audio.logmel_text"))
formula("audio.logmel_formula")
st.plotly_chart(figs.plot_log_mel(f, frame=frame_idx, labels=lab))

# ---- 7. DCT → MFCC ------------------------------------------------------------------------------------------
st.header(t("audio.mfcc_header"))
st.markdown(t("audio.mfcc_text"))
formula("audio.mfcc_formula")
st.markdown(t("audio.mfcc_c0_text"))
formula("audio.c0_formula")
st.plotly_chart(figs.plot_mfcc(f, frame=frame_idx, labels=lab))
st.caption(t("audio.mfcc_caption", last=f.mfcc.shape[0] - 1, lim=figs.mfcc_colour_limit(f.mfcc)))
st.caption(t("audio.shape_caption", n=len(y), n_fft=p["n_fft"], T=T, K=f.freqs.size, n_mels=p["n_mels"],
             n_mfcc=f.mfcc.shape[0]))
show_source(audio.mfcc)

# ---- 8. reconstruction -----------------------------------------------------------------------------------------
st.header(t("audio.recon_header"))
n_mfcc = f.mfcc.shape[0]
k = st.slider(t("audio.controls.k"), 1, n_mfcc, min(13, n_mfcc), key=f"audio.k.{n_mfcc}", bind="query-params")
f = replace(f, reconstruction=audio.mfcc_to_log_mel(f.mfcc, n_mels=p["n_mels"], k=k), k=k)
st.markdown(t("audio.recon_text", err=float(np.abs(f.reconstruction - f.log_mel).mean())))
formula("audio.recon_formula")
col1, col2 = st.columns(2)
col1.plotly_chart(figs.plot_reconstruction(f, labels=lab))
col2.plotly_chart(figs.plot_reconstruction(f, residual=True, labels=lab))
st.plotly_chart(figs.plot_envelope(f, frame_idx, labels=lab))
st.caption(t("audio.envelope_caption", frame=frame_idx, k=k))
show_source(audio.mfcc_to_log_mel)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("audio")
