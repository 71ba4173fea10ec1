"""The one loader for user files: images and audio, bounded *before* decoding.

Every failure raises :class:`UploadError` (a ``ValueError``) whose message is safe to show a user: it names
the problem and the limit, never a stack trace or a library's internal wording. Files are decoded from
memory; nothing is written to disk. No process-global library setting is changed (e.g. PIL's
``MAX_IMAGE_PIXELS`` or ``LOAD_TRUNCATED_IMAGES``), since many sessions share the process.
"""
from __future__ import annotations

import io
import math
import warnings

import numpy as np

# Limits shown to the user in the messages below; `.streamlit/config.toml` maxUploadSize matches MAX_BYTES.
MAX_BYTES = 20 * 1024 * 1024          # 20 MB per file
MAX_PIXELS = 40_000_000               # 40 MP (e.g. 8000 x 5000)
MAX_SIDE = 12_000                     # px, either side
MAX_SECONDS = 60.0                    # audio duration
MAX_CHANNELS = 8
MIN_SR, MAX_SR = 4_000, 192_000       # Hz

IMAGE_TYPES = ("png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff")
AUDIO_TYPES = ("wav", "flac", "ogg", "mp3")


class UploadError(ValueError):
    """A user file that cannot be used; ``str(err)`` is the (English) message for the page.

    ``code`` and ``params`` let the page show the same message in the reader's language
    (``locales/common.toml``, table ``upload``).
    """

    def __init__(self, message: str, *, code: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


def _check_bytes(data: bytes, what: str) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UploadError(f"Expected the {what} file's bytes.", code="not_bytes")
    if len(data) == 0:
        raise UploadError(f"The {what} file is empty (0 bytes).", code="empty")
    if len(data) > MAX_BYTES:
        raise UploadError(f"The {what} file is {len(data) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB.",
                          code="too_big", mb=round(len(data) / 2**20, 1), limit=MAX_BYTES // 2**20)


# ----------------------------------------------------------------------------------------------------- images


def load_image(data: bytes) -> "PIL.Image.Image":  # noqa: F821
    """Decode an uploaded image to an RGB ``PIL.Image``.

    The size is read from the header and checked before any pixel is decoded, so a 20000x20000 PNG
    bomb is refused without allocating it. Handles EXIF orientation, alpha (composited on white),
    16-bit and float grayscale (rescaled to 8 bit), palette images, CMYK and animated files (first frame).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    _check_bytes(data, "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(bytes(data)))  # lazy: reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError(f"The image is too large to open; the limit is {MAX_PIXELS / 1e6:.0f} megapixels.",
                          code="bomb", mp=int(MAX_PIXELS / 1e6)) from None
    except UnidentifiedImageError:
        raise UploadError("This file is not an image we can read (PNG, JPEG, GIF, WebP, BMP or TIFF).",
                          code="not_image") from None
    except Exception:  # noqa: BLE001 - any decoder failure becomes a user message
        raise UploadError("The image file is damaged and cannot be opened.", code="damaged_image") from None

    w, h = img.size
    if w < 1 or h < 1:
        raise UploadError("The image has no pixels.", code="no_pixels")
    if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
        raise UploadError(
            f"The image is {w}x{h} pixels; the limit is {MAX_PIXELS / 1e6:.0f} megapixels "
            f"and {MAX_SIDE} pixels per side.", code="too_many_pixels", w=w, h=h, mp=int(MAX_PIXELS / 1e6),
            side=MAX_SIDE)
    try:
        img.seek(0)          # animated GIF/WebP/APNG: the first frame
        img.load()           # full decode; raises on truncated data
        img = ImageOps.exif_transpose(img) or img
        return _to_rgb(img)
    except UploadError:
        raise
    except Exception:  # noqa: BLE001
        raise UploadError("The image file is damaged or incomplete and cannot be decoded.",
                          code="damaged_image") from None


def _to_rgb(img):
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # Deep grayscale: PIL's convert("RGB") would clip everything above 255; rescale instead.
        arr = np.asarray(img, dtype=np.float64)                         # (H, W)
        if not np.isfinite(arr).all():
            raise UploadError("The image contains invalid (NaN or infinite) pixel values.", code="nan_pixels")
        lo, hi = float(arr.min()), float(arr.max())
        top = 65535.0 if mode.startswith("I;16") else (hi if hi > lo else lo + 1.0)
        bottom = 0.0 if mode.startswith("I;16") else lo
        arr8 = np.clip((arr - bottom) / (top - bottom) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, mode="L").convert("RGB")
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


# ------------------------------------------------------------------------------------------------------ audio


def load_audio(data: bytes, *, sr: int = 22050) -> tuple[np.ndarray, int]:
    """Decode uploaded audio to mono float32 at ``sr`` with peak ≤ 1.

    Reads the header first (format, sample rate, channels, length) and refuses out-of-bounds files
    before decoding samples. Accepts WAV (8/16/24/32-bit int, float), FLAC, OGG/Vorbis and MP3.

    Returns
    -------
    y : np.ndarray [shape=(n,)], float32, mono, peak ≤ 1
    sr : int, the requested sample rate
    """
    import soundfile as sf

    _check_bytes(data, "audio")
    if not (MIN_SR <= int(sr) <= MAX_SR):
        raise UploadError(f"Target sample rate {sr} Hz is outside {MIN_SR}–{MAX_SR} Hz.", code="bad_sr", sr=int(sr),
                          lo=MIN_SR, hi=MAX_SR)
    buf = io.BytesIO(bytes(data))
    try:
        info = sf.info(buf)
    except Exception:  # noqa: BLE001 - libsndfile's words are not for users
        raise UploadError("This file is not audio we can read (WAV, FLAC, OGG or MP3).", code="not_audio") from None
    if not (MIN_SR <= info.samplerate <= MAX_SR):
        raise UploadError(f"The sample rate is {info.samplerate} Hz; supported are {MIN_SR}–{MAX_SR} Hz.",
                          code="bad_sr", sr=int(info.samplerate), lo=MIN_SR, hi=MAX_SR)
    if not (1 <= info.channels <= MAX_CHANNELS):
        raise UploadError(f"The file has {info.channels} channels; at most {MAX_CHANNELS} are supported.",
                          code="channels", channels=int(info.channels), limit=MAX_CHANNELS)
    max_frames = int(MAX_SECONDS * info.samplerate)
    if info.frames > max_frames:
        raise UploadError(f"The recording is {info.frames / info.samplerate:.1f} s long; the limit is {MAX_SECONDS:.0f} s.",
                          code="too_long", limit=int(MAX_SECONDS))
    buf.seek(0)
    try:
        # Read at most one frame past the limit: a header that understates the length cannot make us decode more.
        y, file_sr = sf.read(buf, frames=max_frames + 1, dtype="float32", always_2d=True)  # (n, channels)
    except Exception:  # noqa: BLE001
        raise UploadError("The audio file is damaged or incomplete and cannot be decoded.", code="damaged_audio") from None
    if y.shape[0] > max_frames:
        raise UploadError(f"The recording is longer than the limit of {MAX_SECONDS:.0f} s.", code="too_long",
                          limit=int(MAX_SECONDS))
    if y.shape[0] == 0:
        raise UploadError("The audio file contains no samples.", code="no_samples")
    if not np.isfinite(y).all():
        raise UploadError("The audio contains invalid samples (NaN or infinity).", code="nan_samples")
    y = y.mean(axis=1)                                                                  # (n,) mono
    if file_sr != sr:
        y = resample(y, file_sr, sr)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 1.0:
        y = y / peak
    return np.ascontiguousarray(y, dtype=np.float32), int(sr)


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling by the reduced ratio target_sr / orig_sr (scipy, no numba warm-up)."""
    from scipy.signal import resample_poly

    g = math.gcd(int(orig_sr), int(target_sr))
    return resample_poly(y, int(target_sr) // g, int(orig_sr) // g).astype(np.float32)
