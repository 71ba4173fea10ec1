"""Practice items for Speech › Spectrogram & MFCC (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.speech import audio as A

S = "audio"
SRS = (8000, 16000, 22050)                  # the page's sample-rate options (audio.sr)
N_FFTS = (256, 512, 1024, 2048)             # among the page's n_fft options (audio.n_fft)
HOPS = (64, 128, 256, 512)                  # multiples of 32 within the page's hop slider (audio.hop)


def n_frames(rng: np.random.Generator) -> Item:
    """How many STFT frames does a clip give with center=True (librosa's default)? Distractors: no centre padding,
    padding on one side only, the +1 forgotten, the padding forgotten and the length rounded up."""
    sr = int(rng.choice(SRS))
    seconds = float(rng.choice((0.5, 1.0, 1.5, 2.0, 2.5, 3.0)))
    n = int(round(sr * seconds))
    n_fft, hop = int(rng.choice(N_FFTS)), int(rng.choice(HOPS))
    if hop > n_fft // 2:
        raise Redraw("hop longer than half a frame: not a usual setting")
    y = np.zeros(n)
    T = A.frame(y, n_fft=n_fft, hop_length=hop, center=True).shape[1]
    no_center = A.frame(y, n_fft=n_fft, hop_length=hop, center=False).shape[1]
    one_side = A.frame(np.pad(y, (n_fft // 2, 0)), n_fft=n_fft, hop_length=hop, center=False).shape[1]
    fmt = lambda v: f"{int(v)}"                                              # noqa: E731
    choices = numeric_choices(rng, T, text(S, "practice.frames.right"), [
        (no_center, text(S, "practice.frames.no_center")),
        (T - 1, text(S, "practice.frames.no_plus_one")),
        (one_side, text(S, "practice.frames.one_side")),
        (int(np.ceil(n / hop)), text(S, "practice.frames.ceil")),
        (no_center - 1, text(S, "practice.frames.no_center_no_plus_one")),
    ], fmt)
    padded = n + 2 * (n_fft // 2)
    return Item(kind="compute",
                stem=text(S, "practice.frames.stem", seconds=seconds, sr=sr, n=n, n_fft=n_fft, hop=hop),
                choices=choices,
                solution=text(S, "practice.frames.solution", n=n, half=n_fft // 2, padded=padded, n_fft=n_fft,
                              hop=hop, q=(padded - n_fft) // hop, T=T, no_center=no_center),
                setup={"audio.sr": sr, "audio.n_fft": n_fft, "audio.hop": hop},
                params={"n": n, "n_fft": n_fft, "hop_length": hop}, answer=float(T), tolerance=0)


def mel_value(rng: np.random.Generator) -> Item:
    """Hz → mel with the HTK formula (the one the course notes give), or mel → Hz. Distractors: the natural log
    with 2595, the '1 +' dropped, Slaney's scale (librosa's default) in place of HTK, 1000 in place of 700."""
    fmt = lambda v: f"{v:.1f}"                                               # noqa: E731
    if rng.integers(2):
        f = int(rng.integers(1, 81)) * 100
        m = float(A.hz_to_mel(f, htk=True))
        mistakes = [
            (m * np.log(10), text(S, "practice.mel.ln")),
            (2595 * np.log10(f / 700), text(S, "practice.mel.no_one")),
            (float(A.hz_to_mel(f, htk=False)), text(S, "practice.mel.slaney")),
            (2595 * np.log10(1 + f / 1000), text(S, "practice.mel.thousand")),
        ]
        stem = text(S, "practice.mel.stem_hz", f=f)
        solution = text(S, "practice.mel.solution_hz", f=f, ratio=f"{1 + f / 700:.4f}",
                        log=f"{np.log10(1 + f / 700):.5f}", m=fmt(m))
        right, params = m, {"f": f, "to": "mel"}
    else:
        m = int(rng.integers(4, 57)) * 50
        f = float(A.mel_to_hz(m, htk=True))
        mistakes = [
            (700 * (np.exp(m / 2595) - 1), text(S, "practice.mel.inv_exp")),
            (700 * 10 ** (m / 2595), text(S, "practice.mel.inv_no_minus")),
            (float(A.mel_to_hz(m, htk=False)), text(S, "practice.mel.inv_slaney")),
            (1000 * (10 ** (m / 2595) - 1), text(S, "practice.mel.thousand")),
        ]
        stem = text(S, "practice.mel.stem_mel", m=m)
        solution = text(S, "practice.mel.solution_mel", m=m, p=f"{10 ** (m / 2595):.5f}", f=fmt(f))
        right, params = f, {"m": m, "to": "hz"}
    choices = numeric_choices(rng, right, text(S, "practice.mel.right"), mistakes, fmt)
    return Item(kind="compute", stem=stem, choices=choices, solution=solution,
                setup={"audio.htk": "true"}, params=params, answer=right, tolerance=0.05)


def bin_frequency(rng: np.random.Generator) -> Item:
    """The centre frequency of STFT bin k is k·sr/n_fft. Distractors: sr/2 over n_fft, the hop in place of n_fft,
    dividing by the number of bins N/2 + 1, dividing by N/2."""
    sr, n_fft = int(rng.choice(SRS)), int(rng.choice(N_FFTS))
    hop = int(rng.choice([h for h in HOPS if h <= n_fft // 2]))
    k = int(rng.integers(1, n_fft // 8))
    freqs = A.fft_frequencies(sr=sr, n_fft=n_fft)
    f = float(freqs[k])
    fmt = lambda v: f"{v:.2f}"                                               # noqa: E731
    choices = numeric_choices(rng, f, text(S, "practice.bin.right"), [
        (k * sr / 2 / n_fft, text(S, "practice.bin.nyquist")),
        (k * sr / hop, text(S, "practice.bin.hop")),
        (k * sr / (n_fft // 2 + 1), text(S, "practice.bin.n_bins")),
        (k * sr / (n_fft // 2), text(S, "practice.bin.half")),
        (k * n_fft / sr, text(S, "practice.bin.inverted")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.bin.stem", sr=sr, n_fft=n_fft, hop=hop, k=k),
                choices=choices,
                solution=text(S, "practice.bin.solution", sr=sr, n_fft=n_fft, df=f"{freqs[1]:.4f}", k=k, f=fmt(f),
                              K=freqs.size, top=f"{freqs[-1]:.1f}"),
                setup={"audio.sr": sr, "audio.n_fft": n_fft, "audio.hop": hop},
                params={"sr": sr, "n_fft": n_fft, "k": k}, answer=f, tolerance=0.005)


_TRUE = ("center_pad", "bins", "fft_exact", "mel_narrow_low", "c0_loudness", "window_leakage", "mfcc_order",
         "low_coeffs_envelope")
_FALSE = ("fft_approx", "mel_wide_low", "dct_before_log", "high_coeffs_envelope", "hop_more_frames", "both_res",
          "n_bins", "notes_dct_k", "log_before_mel")


def pipeline_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about the STFT / mel / MFCC pipeline (or, half the seeds, the false one): the false
    ones are the misconceptions the chapter corrects, the course notes' DCT formula among them."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_MFCC_CODE = """def mfcc(y, fb, C, n_fft, hop):
    y = np.pad(y, n_fft // 2)
    T = 1 + (len(y) - n_fft) // hop
    frames = np.stack([y[t * hop: t * hop + n_fft] for t in range(T)], axis=1)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    X = np.fft.rfft(frames * w[:, None], axis=0)
    M = fb @ np.abs(X) ** 2
    L = 10 * np.log10(np.maximum(M, 1e-10))
    L = np.maximum(L, L.max() - 80)
    return C @ L"""
# the line that may be blanked -> {mistake: wrong line}; each line is written without its indentation
_MFCC_WRONG = {
    "y = np.pad(y, n_fft // 2)": {
        "pad_end": "y = np.pad(y, (0, n_fft))",
        "pad_full": "y = np.pad(y, n_fft)",
        "no_pad": "y = y",
        "pad_hop": "y = np.pad(y, hop // 2)",
    },
    "w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)": {
        "no_window": "w = np.ones(n_fft)",
        "hamming": "w = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)",
        "window_sin": "w = 0.5 - 0.5 * np.sin(2 * np.pi * np.arange(n_fft) / n_fft)",
        "window_hop": "w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / hop)",
    },
    "M = fb @ np.abs(X) ** 2": {
        "magnitude": "M = fb @ np.abs(X)",
        "complex_first": "M = np.abs(fb @ X) ** 2",
        "real_part": "M = fb @ X.real ** 2",
        "fb_transposed": "M = np.abs(X).T ** 2 @ fb.T",
    },
    "L = 10 * np.log10(np.maximum(M, 1e-10))": {
        "amplitude_db": "L = 20 * np.log10(np.maximum(M, 1e-10))",
        "natural_log": "L = 10 * np.log(np.maximum(M, 1e-10))",
        "no_log": "L = 10 * np.maximum(M, 1e-10)",
        "log_no_ten": "L = np.log10(np.maximum(M, 1e-10))",
    },
    "return C @ L": {
        "dct_of_mel": "return C @ M",
        "dct_transposed": "return C.T @ L",
        "fft_not_dct": "return np.abs(np.fft.rfft(L, axis=0))[:C.shape[0]]",
        "no_dct": "return L[:C.shape[0]]",
    },
}


def mfcc_blank(rng: np.random.Generator) -> Item:
    """Fill the missing line of a from-scratch MFCC (pad → frames → Hann → |rfft|² → mel → dB → DCT); the
    candidates are executed on a tone and compared with the engine's `mfcc` (= librosa.feature.mfcc)."""
    sr, n_fft = 8000, 256
    hop = int(rng.choice((64, 128)))
    n = int(rng.choice((800, 1200, 1600, 2000)))
    f0 = int(rng.integers(2, 20)) * 100            # the octave 2·f0 stays below sr/2
    n_mels, htk = int(rng.integers(8, 21)), bool(rng.integers(2))
    n_mfcc = int(rng.integers(5, min(n_mels, 13) + 1))               # the page clamps n_mfcc to n_mels
    t = np.arange(n) / sr
    y = np.sin(2 * np.pi * f0 * t) + 0.5 * np.sin(2 * np.pi * 2 * f0 * t)          # a tone and its octave
    expected = A.mfcc(y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop, n_mels=n_mels, htk=htk)
    fb = np.asarray(A.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, htk=htk), dtype=np.float64)
    C = A.dct_matrix(n_mfcc, n_mels)
    ex = Exec("mfcc", (y, fb, C, n_fft, hop), expected, atol=1e-6)
    lines = list(_MFCC_WRONG)
    right = lines[int(rng.integers(len(lines)))]
    code = _MFCC_CODE.replace(right, "____")
    wrong = [(line, text(S, f"practice.blank.{key}")) for key, line in _MFCC_WRONG[right].items()
             if not matches(execute(code.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right MFCC on this tone")
    choices = code_choices(rng, (right, text(S, "practice.blank.right")), wrong)
    return Item(kind="blank",
                stem=text(S, "practice.blank.stem", n=n, f0=f0, f1=2 * f0, sr=sr, n_fft=n_fft, hop=hop,
                          n_mels=n_mels, n_mfcc=n_mfcc, htk=htk),
                choices=choices, code=code,
                solution=text(S, "practice.blank.solution", line=right, T=expected.shape[1], n_mfcc=n_mfcc,
                              c0=f"{expected[0, expected.shape[1] // 2]:.2f}"),
                setup={"audio.sr": sr, "audio.n_fft": n_fft, "audio.hop": hop, "audio.n_mels": n_mels,
                       "audio.n_mfcc": n_mfcc, "audio.window": text(S, "window.hann"),
                       "audio.htk": "true" if htk else "false"},
                params={"y": y, "sr": sr, "n_fft": n_fft, "hop_length": hop, "n_mels": n_mels, "n_mfcc": n_mfcc,
                        "htk": htk},
                exec=ex)


GENERATORS = (n_frames, mel_value, bin_frequency, pipeline_statement, mfcc_blank)
