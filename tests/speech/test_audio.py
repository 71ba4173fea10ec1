"""engine.speech.audio against its oracles: librosa (same arguments), scipy's windows and DCT, and a naive DFT loop."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, assert_ok, run_page, wav_bytes
from engine.speech import audio

librosa = pytest.importorskip("librosa")


@pytest.fixture(scope="module")
def speech():
    y, sr = librosa.load(ROOT / "assets/audio/quick_brown_fox.wav", sr=None)
    return y.astype(np.float32), sr


@pytest.mark.parametrize("window,scipy_name", [("hann", "hann"), ("hamming", "hamming"),
                                               ("rectangular", "boxcar")])
@pytest.mark.parametrize("n", [1, 64, 400, 512])
def test_window_matches_scipy(window, scipy_name, n):
    from scipy.signal import get_window
    np.testing.assert_allclose(audio.get_window(window, n), get_window(scipy_name, n, fftbins=True), atol=1e-12)


def test_dft_naive_loop_equals_fft():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(64)
    # the definition itself, as a double loop
    loop = np.array([sum(x[n] * np.exp(-2j * np.pi * k * n / 64) for n in range(64)) for k in range(33)])
    np.testing.assert_allclose(audio.dft_naive(x), loop, atol=1e-10)
    np.testing.assert_allclose(audio.dft_naive(x), np.fft.rfft(x), atol=1e-10)


def test_time_dft_reports_agreement_and_positive_times():
    timing = audio.time_dft([32, 256], rng=np.random.default_rng(1), budget_s=0.05)
    assert timing.max_abs_diff < 1e-9
    assert (timing.naive_s > 0).all() and (timing.fft_s > 0).all()


@pytest.mark.parametrize("n_fft,hop_length,window,center", [
    (2048, 512, "hann", True), (512, 128, "hamming", True), (400, 160, "rectangular", False), (256, 100, "hann", False)])
def test_stft_matches_librosa(speech, n_fft, hop_length, window, center):
    y, _ = speech
    lib_window = "boxcar" if window == "rectangular" else window
    ref = librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=lib_window, center=center)
    ours = audio.stft(y, n_fft=n_fft, hop_length=hop_length, window=window, center=center)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_stft_matches_naive_dft_of_each_frame(tone):
    y, _ = tone
    n_fft, hop = 256, 64
    ours = audio.stft(y.astype(np.float64), n_fft=n_fft, hop_length=hop)
    padded = np.pad(y.astype(np.float64), n_fft // 2)
    w = audio.get_window("hann", n_fft)
    for t in (0, 7, ours.shape[1] - 1):
        np.testing.assert_allclose(ours[:, t], audio.dft_naive(w * padded[t * hop:t * hop + n_fft]), atol=1e-9)


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("sr,n_fft,n_mels,fmin,fmax", [
    (22050, 2048, 128, 0.0, None), (16000, 512, 40, 20.0, 7600.0), (8000, 256, 26, 0.0, None)])
def test_mel_filterbank_matches_librosa(sr, n_fft, n_mels, fmin, fmax, htk):
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk)
    ours = audio.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("htk", [False, True])
def test_mel_scale_round_trip_and_librosa(htk):
    f = np.array([0.0, 100.0, 700.0, 1000.0, 4000.0, 11025.0])
    np.testing.assert_allclose(audio.hz_to_mel(f, htk=htk), librosa.hz_to_mel(f, htk=htk), rtol=1e-10)
    np.testing.assert_allclose(audio.mel_to_hz(audio.hz_to_mel(f, htk=htk), htk=htk), f, atol=1e-8)


def test_htk_formula_by_hand():
    assert audio.hz_to_mel(700.0, htk=True) == pytest.approx(2595 * np.log10(2))


@pytest.mark.parametrize("kwargs", [
    dict(n_mfcc=20),
    dict(n_mfcc=13, n_fft=512, hop_length=160, n_mels=40),
    dict(n_mfcc=40, n_fft=1024, hop_length=256, n_mels=64, htk=True),
])
def test_mfcc_matches_librosa(speech, kwargs):
    y, sr = speech
    ref = librosa.feature.mfcc(y=y, sr=sr, **kwargs)
    ours = audio.mfcc(y, sr=sr, **kwargs)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_apply_filterbank_equals_dense_product():
    rng = np.random.default_rng(3)
    fb = audio.mel_filterbank(sr=16000, n_fft=512, n_mels=40).copy()   # the cached one is read-only
    S = rng.random((257, 30)).astype(np.float32)
    np.testing.assert_allclose(audio.apply_filterbank(fb, S), fb @ S, rtol=1e-5, atol=1e-9)
    fb[3] = 0                                               # an empty filter gives a zero row
    assert not audio.apply_filterbank(fb, S)[3].any()


def test_dct_matrix_matches_scipy_and_is_orthonormal():
    from scipy.fft import dct
    x = np.random.default_rng(2).standard_normal((40, 5))
    np.testing.assert_allclose(audio.dct_matrix(40, 40) @ x, dct(x, type=2, norm="ortho", axis=0), atol=1e-12)
    C = audio.dct_matrix(40, 40)
    np.testing.assert_allclose(C @ C.T, np.eye(40), atol=1e-12)


def test_reconstruction_with_all_coefficients_is_exact_and_error_falls_with_k(speech):
    y, sr = speech
    f_all = audio.features(y, sr=sr, n_mels=40, n_mfcc=40, k=40)
    np.testing.assert_allclose(f_all.reconstruction, f_all.log_mel, atol=1e-3)
    errors = [np.abs(audio.features(y, sr=sr, n_mels=40, n_mfcc=40, k=k).reconstruction - f_all.log_mel).mean()
              for k in (2, 8, 20)]
    assert errors[0] > errors[1] > errors[2] > 0


def test_features_stages_agree_with_librosa(speech):
    y, sr = speech
    f = audio.features(y, sr=sr, n_fft=512, hop_length=128, n_mels=40, n_mfcc=13)
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=128, n_mels=40))
    np.testing.assert_allclose(f.log_mel, ref, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(f.mfcc, librosa.feature.mfcc(y=y, sr=sr, n_fft=512, hop_length=128, n_mels=40,
                                                            n_mfcc=13), rtol=1e-4, atol=1e-2)
    assert f.times.shape == (f.log_mel.shape[1],)
    np.testing.assert_allclose(f.times, librosa.frames_to_time(np.arange(len(f.times)), sr=sr, hop_length=128))


def test_features_on_clip_shorter_than_a_frame():
    f = audio.features(np.zeros(10, dtype=np.float32), sr=16000, n_fft=2048)
    assert np.isfinite(f.mfcc).all()


# ------------------------------------------------------------------------------------------------ page

PAGE = "pages/speech/audio.py"


def test_page_default_clip_shows_every_stage():
    at = run_page(PAGE)
    assert_ok(at)
    # waveform, frame, DFT + timing, spectrogram, filterbank, log-mel, MFCC, reconstruction
    assert len(at.get("plotly_chart")) >= 8
    assert len(at.latex) >= 5
    assert at.get("audio"), "playback of the clip"


def test_page_with_uploaded_stereo_48k_file():
    sr = 48000
    t = np.arange(sr) / sr
    y = np.stack([np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 500 * t)], axis=1).astype(np.float32)
    at = run_page(PAGE)
    at.radio(key="audio.source").set_value("upload").run()
    at.file_uploader(key="audio.file").upload("stereo.flac", wav_bytes(y, sr, fmt="FLAC"), "audio/flac").run()
    assert_ok(at)
    assert not at.error
    assert len(at.get("plotly_chart")) >= 8


def test_page_with_microphone_recording(tone):
    y, sr = tone
    at = run_page(PAGE, lang="ja")
    at.radio(key="audio.source").set_value("mic").run()
    at.audio_input(key="audio.mic").upload("rec.wav", wav_bytes(y, sr)).run()
    assert_ok(at)
    assert not at.error
    assert len(at.get("plotly_chart")) >= 8


def test_page_shows_message_for_bad_upload_and_nothing_else():
    at = run_page(PAGE)
    at.radio(key="audio.source").set_value("upload").run()
    at.file_uploader(key="audio.file").upload("song.mp3", b"\x89PNG\r\n\x1a\n not audio", "audio/mpeg").run()
    assert_ok(at)
    assert len(at.error) == 1
    assert not at.get("plotly_chart")


def test_every_figure_builder_returns_a_light_figure(speech):
    import plotly.graph_objects as go
    from engine.figures.speech import audio as figs
    from ui.i18n import table

    y, sr = speech
    lab = table("audio.labels", "en")
    f = audio.features(y, sr=sr, n_fft=512, hop_length=128, n_mels=64, n_mfcc=20, k=5)
    w = audio.get_window("hann", 512)
    figures = [
        figs.plot_waveform(y, sr, span=(0.1, 0.13), labels=lab), figs.plot_frame(y[:512], w, sr, labels=lab),
        figs.plot_dft(f.freqs, audio.dft_naive(y[:512] * w), np.fft.rfft(y[:512] * w), labels=lab),
        figs.plot_dft_timing(audio.time_dft([32, 64], rng=np.random.default_rng(0), budget_s=0.01), labels=lab),
        figs.plot_spectrogram(f, frame=3, labels=lab), figs.plot_mel_scale(sr, htk=True, labels=lab),
        figs.plot_filterbank(f, 3, labels=lab), figs.plot_log_mel(f, frame=3, labels=lab),
        figs.plot_mfcc(f, frame=3, labels=lab), figs.plot_reconstruction(f, labels=lab),
        figs.plot_reconstruction(f, residual=True, labels=lab), figs.plot_envelope(f, 3, labels=lab)]
    for fig in figures:
        assert isinstance(fig, go.Figure)
        assert len(fig.to_json()) < 2_000_000
    # the heatmaps show the engine's numbers, not a copy that drifted: the picture has one pixel per cell and the
    # hover grid holds the block means of the engine's array
    import base64
    import io

    from PIL import Image

    for fig, z in ((figures[8], f.mfcc[1:]), (figures[10], f.log_mel - f.reconstruction)):
        picture = Image.open(io.BytesIO(base64.b64decode(fig.layout.images[0].source.split(",", 1)[1])))
        assert picture.size == (z.shape[1], z.shape[0])        # ≤ 200 × 640 cells: one pixel each
        hover = np.asarray(fig.data[0].z)
        fy, fx = -(-z.shape[0] // 24), -(-z.shape[1] // 64)
        h2, w2 = z.shape[0] // fy * fy, z.shape[1] // fx * fx
        means = z[:h2, :w2].reshape(h2 // fy, fy, w2 // fx, fx).mean(axis=(1, 3))
        np.testing.assert_allclose(hover, means, atol=0.051)


def test_mfcc_figure_gives_c0_its_own_strip(speech):
    """c₀ (the frame's loudness) is the strip, equal to the engine's c₀ and to √M × the mean log-mel level the page
    states; the heatmap holds c₁… only, in a colour scale symmetric about 0 that c₀ plays no part in."""
    from engine.figures.speech import audio as figs
    from ui.i18n import table

    y, sr = speech
    f = audio.features(y, sr=sr, n_fft=512, hop_length=128, n_mels=64, n_mfcc=20)
    fig = figs.plot_mfcc(f, frame=3, labels=table("audio.labels", "en"))
    heat = [tr for tr in fig.data if tr.type == "heatmap"]
    strip = [tr for tr in fig.data if tr.type == "scatter"]
    assert len(heat) == 1 and len(strip) == 1
    np.testing.assert_allclose(np.asarray(strip[0].y), f.mfcc[0], atol=0.006)
    np.testing.assert_allclose(f.mfcc[0], np.sqrt(64) * f.log_mel.mean(axis=0), rtol=1e-4, atol=1e-2)
    rows = np.asarray(heat[0].y)
    assert rows.min() >= 1 and np.asarray(heat[0].z).shape[0] == 19               # c₁ … c₁₉, no c₀
    fx = -(-f.mfcc.shape[1] // 64)                                                   # the hover grid's block width
    w2 = f.mfcc.shape[1] // fx * fx
    np.testing.assert_allclose(np.asarray(heat[0].z), f.mfcc[1:, :w2].reshape(19, -1, fx).mean(2), atol=0.051)
    assert heat[0].zmin == -heat[0].zmax == -figs.mfcc_colour_limit(f.mfcc)
    # the limit comes from c₁… alone: scaling c₀ changes nothing, and c₀ is far outside it
    boosted = f.mfcc.copy()
    boosted[0] *= 100
    assert figs.mfcc_colour_limit(boosted) == figs.mfcc_colour_limit(f.mfcc)
    assert np.abs(f.mfcc[0]).mean() > 2 * figs.mfcc_colour_limit(f.mfcc)
    assert fig.layout.images[0].yref == "y" and strip[0].yaxis == "y2"              # two panels, one time axis


def test_long_clip_waveform_is_an_envelope_of_the_samples():
    from engine.figures.speech import audio as figs
    y = np.sin(np.linspace(0, 3000, 60 * 16000)).astype(np.float32)
    fig = figs.plot_waveform(y, 16000, labels={"time": "t", "amplitude": "a"})
    v = np.asarray(fig.data[0].y)
    assert len(v) <= figs.MAX_POINTS + 2
    assert abs(v.max() - y.max()) <= 5e-5 and abs(v.min() - y.min()) <= 5e-5      # rounded to what a pixel shows


def test_padding_share_against_the_padded_signal():
    n, hop, n_fft = 1000, 128, 512
    for frame in (0, 3, 7, 8):
        padded = np.pad(np.ones(n), n_fft // 2)                   # ones where the signal is, zeros padded
        window = padded[frame * hop: frame * hop + n_fft]
        window = np.pad(window, (0, n_fft - len(window)))
        assert audio.padding_share(n, frame, hop, n_fft) == pytest.approx(1 - window.mean())


# ---- practice items: answers recomputed from the numbers shown, by librosa (never the generator's code)
@pytest.mark.slow
def test_practice_answers_equal_librosa():
    import torch

    from engine.common import practice as P
    for seed in range(200):
        it = P.make("audio", "n_frames", seed)
        p = it.params
        want = torch.stft(torch.zeros(p["n"]), n_fft=p["n_fft"], hop_length=p["hop_length"], center=True,
                          pad_mode="constant", return_complex=True).shape[1]     # librosa's framing, in C
        assert it.answer == want and it.choices[it.correct_index].label["en"] == str(want)
        it = P.make("audio", "mel_value", seed)
        if it.params["to"] == "mel":
            want = float(librosa.hz_to_mel(it.params["f"], htk=True))
        else:
            want = float(librosa.mel_to_hz(it.params["m"], htk=True))
        assert abs(it.answer - want) < 1e-9 and it.choices[it.correct_index].label["en"] == f"{want:.1f}"
        it = P.make("audio", "bin_frequency", seed)
        p = it.params
        want = float(librosa.fft_frequencies(sr=p["sr"], n_fft=p["n_fft"])[p["k"]])
        assert abs(it.answer - want) < 1e-9 and it.choices[it.correct_index].label["en"] == f"{want:.2f}"
        it = P.make("audio", "mfcc_blank", seed)
        p = it.params
        want = librosa.feature.mfcc(y=p["y"], sr=p["sr"], n_mfcc=p["n_mfcc"], n_fft=p["n_fft"],
                                    hop_length=p["hop_length"], n_mels=p["n_mels"], htk=p["htk"])
        np.testing.assert_allclose(it.exec.expected, want, atol=1e-6)


def test_practice_statements_hold_on_cases():
    """Checkable statements of the pipeline item: the FFT equals the DFT's definition, N/2 + 1 bins up to sr/2,
    centred frames, a larger hop gives fewer frames, mel filters widen with frequency, c₀ = √M × mean log-mel."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(256)
    loop = np.array([sum(x[n] * np.exp(-2j * np.pi * k * n / 256) for n in range(256)) for k in range(129)])
    np.testing.assert_allclose(np.fft.rfft(x), loop, atol=1e-9)                              # fft_exact
    freqs = librosa.fft_frequencies(sr=16000, n_fft=512)
    assert freqs.size == 257 and freqs[-1] == 8000                                           # bins / n_bins
    y = rng.standard_normal(4000).astype(np.float32)
    S = librosa.stft(y, n_fft=512, hop_length=128, window="boxcar")
    np.testing.assert_allclose(S[:, 10], np.fft.rfft(y[10 * 128 - 256: 10 * 128 + 256]), atol=1e-3)  # center_pad
    assert librosa.stft(y, n_fft=512, hop_length=256).shape[1] < S.shape[1]                 # hop_more_frames
    fb = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, htk=True)
    widths = [np.ptp(np.flatnonzero(row)) for row in fb]
    assert widths[-1] > 4 * widths[0] and np.all(np.diff(widths) >= -1)                     # mel_narrow_low
    log_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=16000, n_mels=40))
    c = librosa.feature.mfcc(S=log_mel, n_mfcc=5)
    np.testing.assert_allclose(c[0], np.sqrt(40) * log_mel.mean(axis=0), rtol=1e-4)           # c0_loudness
