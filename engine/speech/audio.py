r"""Speech features from scratch: framing, windows, DFT, STFT, mel filterbank, log-mel, DCT and MFCC.

Written in numpy only — re-deriving them is the lesson — and equal to librosa with the same arguments
(``librosa.stft``, ``librosa.filters.mel``, ``librosa.feature.mfcc``; tests/speech/test_audio.py checks it).
Argument names follow librosa (``sr``, ``n_fft``, ``hop_length``, ``n_mels``, ``n_mfcc``, ``htk``).

References
----------
Davis & Mermelstein, "Comparison of parametric representations for monosyllabic word recognition in
continuously spoken sentences", IEEE TASSP 1980 (MFCC). Slaney, "Auditory Toolbox", 1998 (mel scale and
filter normalisation used by librosa's default). Young et al., "The HTK Book" (mel scale ``htk=True``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

WINDOWS = ("hann", "hamming", "rectangular")


# --------------------------------------------------------------------------------------------- windows & frames


def get_window(window: str, n: int) -> np.ndarray:
    r"""Periodic (DFT-even) window of length ``n``, as ``scipy.signal.get_window(window, n, fftbins=True)``.

    $$w_{\mathrm{hann}}[m] = \tfrac12 - \tfrac12\cos\frac{2\pi m}{N},\qquad
      w_{\mathrm{hamming}}[m] = 0.54 - 0.46\cos\frac{2\pi m}{N},\qquad w_{\mathrm{rect}}[m] = 1$$

    Returns
    -------
    np.ndarray [shape=(n,)], float64
    """
    m = np.arange(n)
    if n == 1:                      # scipy's convention: a one-sample window is 1
        return np.ones(1)
    if window == "hann":
        # w[m] = 1/2 − 1/2·cos(2πm/N)
        return 0.5 - 0.5 * np.cos(2.0 * np.pi * m / n)
    if window == "hamming":
        # w[m] = 0.54 − 0.46·cos(2πm/N)
        return 0.54 - 0.46 * np.cos(2.0 * np.pi * m / n)
    if window in ("rectangular", "boxcar", "ones"):
        return np.ones(n)
    raise ValueError(f"unknown window {window!r}; choose one of {WINDOWS}")


def frame(y: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512, center: bool = True) -> np.ndarray:
    """Slice ``y`` into overlapping frames (a strided view, no copy), zero-padded by ``n_fft // 2`` when centred.

    Frame ``t`` starts at sample ``t * hop_length`` of the (padded) signal, so with ``center=True`` it is
    centred on sample ``t * hop_length`` of ``y``.

    Returns
    -------
    np.ndarray [shape=(n_fft, T)], T = 1 + (len(y_padded) − n_fft) // hop_length
    """
    y = np.asarray(y)
    if center:
        y = np.pad(y, n_fft // 2, mode="constant")
    if len(y) < n_fft:
        raise ValueError(f"signal of {len(y)} samples is shorter than n_fft={n_fft}")
    n_frames = 1 + (len(y) - n_fft) // hop_length
    return np.lib.stride_tricks.as_strided(
        y, shape=(n_fft, n_frames), strides=(y.strides[0], y.strides[0] * hop_length), writeable=False)


# ------------------------------------------------------------------------------------------------------- DFT


def dft_naive(x: np.ndarray) -> np.ndarray:
    r"""The DFT straight from its definition: an N×N matrix of twiddle factors times the signal, O(N²).

    $$X[k] = \sum_{n=0}^{N-1} x[n]\, e^{-2\pi i k n / N},\qquad k = 0,\dots,N/2$$

    Returns
    -------
    np.ndarray [shape=(N // 2 + 1,)], complex128 — the non-negative frequencies, as ``np.fft.rfft``.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    m = np.arange(n)[None, :]                                             # (1, N)
    out = np.empty(n // 2 + 1, dtype=np.complex128)
    for k0 in range(0, n // 2 + 1, 256):   # 256 rows of the matrix at a time bounds memory for large N
        k = np.arange(k0, min(k0 + 256, n // 2 + 1))[:, None]             # (≤256, 1)
        # X[k] = Σ_n x[n]·exp(−2πi·k·n/N)
        out[k0:k0 + len(k)] = np.exp(-2j * np.pi * k * m / n) @ x
    return out


@dataclass(frozen=True)
class DFTTiming:
    n: np.ndarray          # (m,) transform lengths N
    naive_s: np.ndarray    # (m,) seconds per naive O(N²) DFT
    fft_s: np.ndarray      # (m,) seconds per FFT (np.fft.rfft, O(N log N))
    max_abs_diff: float    # largest |naive − fft| over all lengths: the two agree to rounding error


def time_dft(sizes: list[int], *, rng: np.random.Generator, budget_s: float = 0.25) -> DFTTiming:
    """Time the naive DFT against the FFT on random frames of each length, within ~``budget_s`` in total."""
    naive, fast, diff = [], [], 0.0
    per_size = budget_s / max(len(sizes), 1)
    for n in sizes:
        x = rng.standard_normal(n)
        reps, start = 0, time.perf_counter()
        while True:
            ref = dft_naive(x)
            reps += 1
            if time.perf_counter() - start > per_size / 2 or reps >= 50:
                break
        naive.append((time.perf_counter() - start) / reps)
        reps, start = 0, time.perf_counter()
        while True:
            out = np.fft.rfft(x)
            reps += 1
            if time.perf_counter() - start > per_size / 2 or reps >= 2000:
                break
        fast.append((time.perf_counter() - start) / reps)
        diff = max(diff, float(np.max(np.abs(ref - out))))
    return DFTTiming(np.asarray(sizes), np.asarray(naive), np.asarray(fast), diff)


# ------------------------------------------------------------------------------------------------------ STFT


def stft(y: np.ndarray, *, n_fft: int = 2048, hop_length: int | None = None, window: str = "hann",
         center: bool = True) -> np.ndarray:
    r"""Short-time Fourier transform, equal to ``librosa.stft(y, n_fft=..., hop_length=..., window=..., center=...)``.

    $$X[k, t] = \sum_{m=0}^{N-1} w[m]\, y[tH + m]\, e^{-2\pi i k m / N}$$

    with frame length ``N = n_fft``, hop ``H = hop_length`` (default ``n_fft // 4``) and zero padding of
    ``N/2`` at both ends when ``center``.

    Returns
    -------
    np.ndarray [shape=(1 + n_fft // 2, T)], complex64 for float32 input (as librosa)
    """
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.floating):
        y = y.astype(np.float32)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    frames = frame(y, n_fft=n_fft, hop_length=hop_length, center=center).T      # (T, n_fft) view
    w = get_window(window, n_fft).astype(y.dtype)                                # (n_fft,)
    out_dtype = np.complex64 if y.dtype == np.float32 else np.complex128
    spec = np.empty((frames.shape[0], n_fft // 2 + 1), dtype=out_dtype)          # (T, K)
    block = max(1, 2**18 // n_fft)     # frames per block: the windowed copy stays in cache
    for b in range(0, frames.shape[0], block):
        # X[k, t] = Σ_m w[m]·y[tH+m]·exp(−2πi·k·m/N), one real FFT per frame along the contiguous axis
        spec[b:b + block] = np.fft.rfft(frames[b:b + block] * w, axis=-1)
    return spec.T                                                                # (K, T)


def fft_frequencies(*, sr: float, n_fft: int) -> np.ndarray:
    """Centre frequency (Hz) of each STFT bin. np.ndarray [shape=(1 + n_fft // 2,)]"""
    return np.fft.rfftfreq(n_fft, d=1.0 / sr)


def power_to_db(S: np.ndarray, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    r"""Decibels, as ``librosa.power_to_db``: $10\log_{10}\max(a_{\min}, S) - 10\log_{10}\max(a_{\min}, \mathrm{ref})$,
    floored at ``max − top_db``."""
    S = np.asarray(S)
    # dB = 10·log10(max(amin, S)) − 10·log10(max(amin, ref))
    log_spec = 10.0 * np.log10(np.maximum(amin, S))
    log_spec -= 10.0 * np.log10(max(amin, ref))
    if top_db is not None:
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


# ------------------------------------------------------------------------------------------------- mel scale


def hz_to_mel(f, *, htk: bool = False):
    r"""Hz → mel.

    HTK: $m = 2595 \log_{10}(1 + f/700)$. Slaney (librosa's default): linear $m = 3f/200$ below 1 kHz,
    logarithmic above: $m = 15 + 27\,\ln(f/1000)/\ln 6.4$.
    """
    f = np.asanyarray(f, dtype=np.float64)
    if htk:
        # m = 2595·log10(1 + f/700)
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    # linear below 1 kHz, log above
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep,
                    f / f_sp)


def mel_to_hz(m, *, htk: bool = False):
    """mel → Hz, the inverse of :func:`hz_to_mel`."""
    m = np.asanyarray(m, dtype=np.float64)
    if htk:
        # f = 700·(10^(m/2595) − 1)
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_frequencies(n_mels: int, *, fmin: float = 0.0, fmax: float = 11025.0, htk: bool = False) -> np.ndarray:
    """``n_mels`` frequencies (Hz) evenly spaced on the mel scale. np.ndarray [shape=(n_mels,)]"""
    mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


def mel_filterbank(*, sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
                   htk: bool = False) -> np.ndarray:
    r"""Triangular mel filters with Slaney area normalisation, equal to ``librosa.filters.mel`` (norm="slaney").

    Filter $i$ rises from mel edge $f_{i}$ to $f_{i+1}$ and falls to $f_{i+2}$ (edges evenly spaced in mel):

    $$H_i(f) = \max\!\Big(0, \min\Big(\frac{f - f_i}{f_{i+1}-f_i}, \frac{f_{i+2}-f}{f_{i+2}-f_{i+1}}\Big)\Big)
      \cdot \frac{2}{f_{i+2} - f_i}$$

    Returns
    -------
    np.ndarray [shape=(n_mels, 1 + n_fft // 2)], float32, read-only (cached per arguments)
    """
    return _mel_filterbank(float(sr), int(n_fft), int(n_mels), float(fmin),
                           sr / 2.0 if fmax is None else float(fmax), bool(htk))


@lru_cache(maxsize=32)
def _mel_filterbank(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float, htk: bool) -> np.ndarray:
    fftfreqs = fft_frequencies(sr=sr, n_fft=n_fft)                                # (K,)
    edges = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)             # (n_mels + 2,)
    fdiff = np.diff(edges)                                                         # (n_mels + 1,)
    ramps = edges[:, None] - fftfreqs[None, :]                                     # (n_mels + 2, K)
    # rising slope (f − f_i)/(f_{i+1} − f_i), falling slope (f_{i+2} − f)/(f_{i+2} − f_{i+1})
    lower = -ramps[:-2] / fdiff[:-1, None]                                         # (n_mels, K)
    upper = ramps[2:] / fdiff[1:, None]                                            # (n_mels, K)
    weights = np.maximum(0.0, np.minimum(lower, upper))
    # Slaney: each triangle has unit area, 2/(f_{i+2} − f_i)
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    weights = weights.astype(np.float32)
    weights.flags.writeable = False     # shared by every caller through the cache
    return weights


def apply_filterbank(fb: np.ndarray, S: np.ndarray) -> np.ndarray:
    r"""$M = H S$, using that each mel filter is non-zero on one contiguous run of bins only.

    A triangle covers a few bins, so the dense product wastes ~98 % of its multiplications on zeros;
    multiplying each filter by its own band of rows is the same sum, ~30x faster.

    Parameters
    ----------
    fb : np.ndarray [shape=(n_mels, K)]
    S : np.ndarray [shape=(K, T)]

    Returns
    -------
    np.ndarray [shape=(n_mels, T)]
    """
    # Slice along the contiguous axis: an STFT is usually F-ordered (frames contiguous), so use S.T then.
    by_frame = S.flags.f_contiguous and not S.flags.c_contiguous
    St = S.T if by_frame else np.ascontiguousarray(S)                   # (T, K) view, or (K, T)
    out = np.zeros((fb.shape[0], S.shape[1]), dtype=np.result_type(fb, S))
    for i, row in enumerate(fb):
        nz = np.flatnonzero(row)
        if nz.size:
            lo, hi = nz[0], nz[-1] + 1
            # M[i, t] = Σ_k H[i, k]·S[k, t] over the filter's support only
            out[i] = St[:, lo:hi] @ row[lo:hi] if by_frame else row[lo:hi] @ St[lo:hi]
    return out


# ------------------------------------------------------------------------------------------------ DCT & MFCC


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    r"""Orthonormal DCT-II basis, the first ``n_out`` rows (``scipy.fft.dct(type=2, norm="ortho")``).

    $$C_{k,n} = s_k \cos\frac{\pi k (2n+1)}{2N},\qquad s_0 = \sqrt{1/N},\ s_{k>0} = \sqrt{2/N}$$

    Orthonormal, so the inverse is the transpose. np.ndarray [shape=(n_out, n_in)]
    """
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    # C[k, n] = s_k·cos(πk(2n+1)/(2N))
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    return basis


def melspectrogram(y: np.ndarray, *, sr: float, n_fft: int = 2048, hop_length: int = 512, window: str = "hann",
                   n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                   power: float = 2.0) -> np.ndarray:
    """Mel power spectrogram ``M = H · |X|^power``, as ``librosa.feature.melspectrogram``. [shape=(n_mels, T)]"""
    X = stft(y, n_fft=n_fft, hop_length=hop_length, window=window)
    S = np.abs(X) ** power                      # |X|^p, as librosa
    return apply_filterbank(mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk), S)


def mfcc(y: np.ndarray, *, sr: float, n_mfcc: int = 20, n_fft: int = 2048, hop_length: int = 512,
         n_mels: int = 128, window: str = "hann", fmin: float = 0.0, fmax: float | None = None,
         htk: bool = False) -> np.ndarray:
    r"""Mel-frequency cepstral coefficients, equal to ``librosa.feature.mfcc`` with the same arguments.

    $$\mathrm{MFCC}[c, t] = \sum_{i=0}^{M-1} C_{c,i}\; 10\log_{10} \Big(\sum_k H_i[k]\,|X[k,t]|^2\Big)$$

    (log-mel in dB with librosa's 80 dB floor, then the orthonormal DCT-II over the ``M = n_mels`` bands.)

    Returns
    -------
    np.ndarray [shape=(n_mfcc, T)]
    """
    log_mel = power_to_db(melspectrogram(y, sr=sr, n_fft=n_fft, hop_length=hop_length, window=window,
                                         n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk))      # (n_mels, T)
    basis = dct_matrix(n_mfcc, n_mels).astype(log_mel.dtype)                             # (n_mfcc, n_mels)
    return basis @ log_mel


def mfcc_to_log_mel(coeffs: np.ndarray, *, n_mels: int, k: int | None = None) -> np.ndarray:
    r"""Invert the DCT using only the first ``k`` coefficients: the smooth spectral envelope the MFCC keeps.

    $$\widehat{L}[i, t] = \sum_{c < k} C_{c,i}\,\mathrm{MFCC}[c, t]$$

    Returns
    -------
    np.ndarray [shape=(n_mels, T)]
    """
    k = coeffs.shape[0] if k is None else min(int(k), coeffs.shape[0])
    basis = dct_matrix(k, n_mels).astype(coeffs.dtype)                                   # (k, n_mels)
    return basis.T @ coeffs[:k]


# --------------------------------------------------------------------------------------------- whole pipeline


@dataclass(frozen=True)
class Features:
    """Every stage of the feature pipeline for one clip (all arrays float32 unless noted)."""
    sr: int
    n_fft: int
    hop_length: int
    window: str
    htk: bool
    spectrum: np.ndarray         # (1 + n_fft//2, T) complex64, the STFT X[k, t]
    power_db: np.ndarray         # (1 + n_fft//2, T) 10·log10 |X|², 80 dB floor
    freqs: np.ndarray            # (1 + n_fft//2,) Hz
    times: np.ndarray            # (T,) s, frame centres
    filterbank: np.ndarray       # (n_mels, 1 + n_fft//2) Slaney-normalised triangles
    mel_freqs: np.ndarray        # (n_mels,) centre frequency of each filter, Hz
    log_mel: np.ndarray          # (n_mels, T) dB
    mfcc: np.ndarray             # (n_mfcc, T)
    reconstruction: np.ndarray   # (n_mels, T) log-mel rebuilt from the first k MFCCs
    k: int                       # coefficients used in the reconstruction


def features(y: np.ndarray, *, sr: int, n_fft: int = 2048, hop_length: int = 512, window: str = "hann",
             n_mels: int = 128, n_mfcc: int = 20, htk: bool = False, k: int = 13,
             fmin: float = 0.0, fmax: float | None = None) -> Features:
    """Run the whole pipeline once, sharing the STFT between the stages the page shows.

    ``k`` (default: all ``n_mfcc``) coefficients are used for ``reconstruction``."""
    y = np.asarray(y, dtype=np.float32)
    if len(y) < n_fft // 2 + 1:     # centred framing needs at least half a frame of signal
        y = np.pad(y, (0, n_fft // 2 + 1 - len(y)))
    X = stft(y, n_fft=n_fft, hop_length=hop_length, window=window)            # (K, T)
    power = (np.abs(X) ** 2).astype(np.float32, copy=False)                     # |X|², (K, T)
    fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk)
    log_mel = power_to_db(apply_filterbank(fb, power)).astype(np.float32)      # (n_mels, T)
    coeffs = (dct_matrix(n_mfcc, n_mels).astype(np.float32) @ log_mel)          # (n_mfcc, T)
    fmax_ = sr / 2.0 if fmax is None else fmax
    return Features(
        sr=sr, n_fft=n_fft, hop_length=hop_length, window=window, htk=htk,
        spectrum=X, power_db=power_to_db(power).astype(np.float32), freqs=fft_frequencies(sr=sr, n_fft=n_fft),
        times=np.arange(X.shape[1]) * hop_length / sr, filterbank=fb,
        mel_freqs=mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax_, htk=htk)[1:-1],
        log_mel=log_mel, mfcc=coeffs, reconstruction=mfcc_to_log_mel(coeffs, n_mels=n_mels, k=k),
        k=coeffs.shape[0] if k is None else min(k, coeffs.shape[0]))


def padding_share(n_samples: int, frame: int, hop_length: int, n_fft: int) -> float:
    """Share of frame `frame` that lies outside the signal (the zeros that ``center=True`` pads on both sides):
    frame t covers padded samples [t·hop, t·hop + n_fft), i.e. signal samples [t·hop − n_fft/2, t·hop + n_fft/2)."""
    start = frame * hop_length - n_fft // 2
    inside = max(0, min(start + n_fft, n_samples) - max(start, 0))
    return 1.0 - inside / n_fft
