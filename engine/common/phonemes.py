r"""Real CTC frame posteriors: the offline phoneme recogniser of the `hama` package, and what goes with it.

`hama` (Apache-2.0) ships a waveform → phoneme CTC acoustic model (191 IPA labels, blank last, one output
frame per 320 samples = 20 ms at 16 kHz), a phoneme → text model (P2G) and a text → phoneme model (G2P),
all run by a bundled native runtime on the CPU. This module only adapts them to the names used by
:mod:`engine.speech.ctc`: ``log_probs (T, C)``, ``blank``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Sequence

import numpy as np

SR = 16_000                 # the model's sample rate (Hz)
HOP = 320                   # input samples per output frame (STFT hop 160, subsampled by 2)
WORD_BOUNDARY = "<wb>"      # the model's word-boundary label, written "|" for the user
BLANK = "<blank>"


@dataclass(frozen=True)
class Posteriorgram:
    log_probs: np.ndarray         # (T, C) log y_t^k from the acoustic model, rows log-normalised
    labels: tuple[str, ...]       # (C,) IPA symbol of each class
    blank: int                    # blank class id (C-1)
    frame_s: float                # seconds per frame

    def token(self, k: int) -> str:
        """Display name of class k: blank as "−", word boundary as "|"."""
        name = self.labels[k]
        return {BLANK: "−", WORD_BOUNDARY: "|"}.get(name, name)


class PhonemeRecognizer:
    """The three hama models, loaded once. Calls into the native runtime are serialised by a lock, since one
    instance is shared by every session of the app."""

    def __init__(self) -> None:
        import hama

        self._asr = hama.ASRModel()
        self._p2g = hama.P2GModel()
        self._g2p = hama.G2PModel()
        self._lock = threading.Lock()
        self.labels = tuple(self._asr.decoder_tokens)     # (C,)
        self.blank = int(self._asr.blank_id)
        self._index = {name: i for i, name in enumerate(self.labels)}

    def posteriors(self, y: np.ndarray, sr: int = SR) -> Posteriorgram:
        """Frame log posteriors (T, C) of a mono clip (resampled linearly by hama if sr ≠ 16 kHz)."""
        wav = np.clip(np.asarray(y, dtype=np.float32).reshape(1, -1), -1.0, 1.0)  # (1, n)
        if sr != SR:
            from hama.asr import _resample_linear
            wav = _resample_linear(wav[0], sr, SR)[None]
        asr = self._asr
        feeds = {asr._waveform_input_name: wav, asr._waveform_lengths_input_name: np.array([wav.shape[1]])}
        with self._lock:
            log_probs, lengths = asr.session.run([asr._log_probs_output_name, asr._out_lengths_output_name], feeds)
        T = int(np.asarray(lengths).reshape(-1)[0])
        lp = np.asarray(log_probs[0, :T], dtype=np.float64)  # (T, C)
        # renormalise in float64 so that every row is an exact log-distribution
        lp = lp - np.logaddexp.reduce(lp, axis=1, keepdims=True)
        return Posteriorgram(log_probs=lp, labels=self.labels, blank=self.blank, frame_s=HOP / SR)

    def text(self, ids: Sequence[int]) -> str:
        """Phoneme ids → text with the P2G model (words split at the word-boundary label)."""
        tokens = ["|" if self.labels[i] == WORD_BOUNDARY else self.labels[i] for i in ids if i != self.blank]
        if not [tok for tok in tokens if tok != "|"]:
            return ""
        with self._lock:
            return self._p2g.predict(tokens).text

    def transcribe(self, text: str) -> list[int]:
        """Text → phoneme ids with the G2P model, a word-boundary label between words (as the recogniser
        emits them). Phonemes outside the recogniser's inventory are dropped."""
        ids: list[int] = []
        for word in text.split():
            with self._lock:
                result = self._g2p.predict(word)
            phones = [self._index[a.phoneme] for a in result.alignments if a.phoneme in self._index]
            if phones:
                if ids:
                    ids.append(self._index[WORD_BOUNDARY])
                ids.extend(phones)
        return ids

    def parse(self, phonemes: str) -> list[int]:
        """Space-separated IPA symbols ("h ɛ l oʊ | w ɝ l d") → ids; raises ValueError naming unknown ones."""
        names = [WORD_BOUNDARY if tok == "|" else tok for tok in phonemes.split()]
        unknown = [n for n in names if n not in self._index or n == BLANK]
        if unknown:
            raise ValueError(" ".join(unknown))
        return [self._index[n] for n in names]

    def spell(self, ids: Sequence[int]) -> str:
        """Ids → space-separated IPA, "|" for word boundaries."""
        return " ".join("|" if self.labels[i] == WORD_BOUNDARY else self.labels[i] for i in ids)


def load() -> PhonemeRecognizer:
    """The recogniser; raises (ImportError/OSError/RuntimeError) where hama's runtime cannot load."""
    return PhonemeRecognizer()


def log_spectrogram(y: np.ndarray, n_bands: int = 64, n_fft: int = 512, hop_length: int = HOP,
                    sr: int = SR) -> np.ndarray:
    r"""Log power spectrogram pooled into `n_bands` equal-width bands up to sr/2, one column per CTC frame:
    $10\log_{10}(|X_t(f)|^2 + 10^{-10})$, shape (n_bands, T). Hann window, frames centred."""
    y = np.asarray(y, dtype=np.float64)
    pad = n_fft // 2
    y = np.pad(y, (pad, pad))
    n_frames = max(1, 1 + (len(y) - n_fft) // hop_length)
    idx = np.arange(n_fft)[None] + hop_length * np.arange(n_frames)[:, None]  # (T, n_fft)
    frames = y[np.minimum(idx, len(y) - 1)] * np.hanning(n_fft)[None]  # (T, n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (T, n_fft/2+1)
    edges = np.linspace(0, power.shape[1], n_bands + 1).astype(int)
    bands = np.add.reduceat(power, edges[:-1], axis=1) / np.diff(edges)[None]  # (T, n_bands)
    return 10 * np.log10(bands.T + 1e-10)
