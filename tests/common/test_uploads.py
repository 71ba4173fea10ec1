"""The one upload loader: what users really upload is accepted, everything else gets one clear message.

Bounds (bytes, pixels, duration, channels, sample rate) are checked before full decoding; the pixel-bomb
test proves it by measuring the memory the refusal allocates.
"""
from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from conftest import assert_ok, wav_bytes
from engine.common.uploads import MAX_BYTES, UploadError, load_audio, load_image
from ui import i18n


def png_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(w: int, h: int) -> bytes:
    """A PNG claiming w×h 1-bit pixels, with a tiny (incomplete) IDAT: built without allocating the image."""
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------------- good images


def test_exif_rotated_jpeg_is_upright():
    img = Image.new("RGB", (40, 20), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6                       # orientation: rotate 90° clockwise to display
    out = load_image(png_bytes(img, format="JPEG", exif=exif.tobytes()))
    assert out.size == (20, 40) and out.mode == "RGB"


def test_png_with_alpha_is_composited_on_white():
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    img.putpixel((0, 0), (0, 0, 255, 255))
    out = np.asarray(load_image(png_bytes(img)))
    assert tuple(out[0, 0]) == (0, 0, 255) and tuple(out[4, 4]) == (255, 255, 255)


def test_16bit_grayscale_is_rescaled_not_clipped():
    arr = np.array([[0, 32768, 65535]], dtype=np.uint16)
    out = np.asarray(load_image(png_bytes(Image.fromarray(arr))))
    assert out.shape == (1, 3, 3)
    assert list(out[0, :, 0]) == [0, 128, 255]


def test_palette_gif_and_animated_gif_first_frame():
    frames = [Image.new("RGB", (10, 10), c).convert("P") for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = np.asarray(load_image(buf.getvalue()))
    assert out.shape == (10, 10, 3)
    assert out[5, 5, 0] > 200 and out[5, 5, 1] < 50          # red: the first frame


def test_animated_webp_first_frame():
    frames = [Image.new("RGB", (16, 16), c) for c in ((0, 0, 255), (255, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="WEBP", save_all=True, append_images=frames[1:], lossless=True)
    out = np.asarray(load_image(buf.getvalue()))
    assert out[8, 8, 2] > 200 and out[8, 8, 0] < 50


def test_cmyk_jpeg_becomes_rgb():
    img = Image.new("CMYK", (12, 12), (0, 255, 255, 0))        # pure red in CMYK
    out = np.asarray(load_image(png_bytes(img, format="JPEG")))
    assert out.shape == (12, 12, 3) and out[6, 6, 0] > 200 and out[6, 6, 1] < 60


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "PNG"])
def test_common_formats(fmt):
    out = load_image(png_bytes(Image.new("L", (5, 7), 100), format=fmt))
    assert out.size == (5, 7) and out.mode == "RGB"


# ----------------------------------------------------------------------------------------------- bad images


def test_pixel_bomb_is_refused_without_allocating_it():
    data = png_header_only(20000, 20000)
    tracemalloc.start()
    with pytest.raises(UploadError) as err:
        load_image(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert err.value.code in ("bomb", "too_many_pixels")
    assert peak < 5 * 2**20                     # a decoded 20000² image would be ≥ 50 MB even at 1 bit


def test_too_many_pixels_below_pil_threshold_refused_from_header():
    with pytest.raises(UploadError) as err:
        load_image(png_header_only(9000, 6000))     # 54 MP: under PIL's bomb limit, over ours
    assert err.value.code == "too_many_pixels" and "9000" in str(err.value)


@pytest.mark.parametrize("data,code", [
    (b"", "empty"),
    (b"hello, I am a text file renamed to .png", "not_image"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not_image"),
    (b"\x00" * (MAX_BYTES + 1), "too_big"),
])
def test_bad_image_bytes(data, code):
    with pytest.raises(UploadError) as err:
        load_image(data)
    assert err.value.code == code and isinstance(err.value, ValueError)


def test_truncated_png_and_jpeg():
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    for fmt in ("PNG", "JPEG"):
        data = png_bytes(img, format=fmt)
        with pytest.raises(UploadError) as err:
            load_image(data[: len(data) // 2])
        assert err.value.code == "damaged_image"


def test_renamed_wav_is_not_an_image():
    with pytest.raises(UploadError) as err:
        load_image(wav_bytes(np.zeros(100, np.float32), 8000))
    assert err.value.code == "not_image"


# ------------------------------------------------------------------------------------------------ audio


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "FLOAT"])
def test_wav_bit_depths(subtype, tone):
    y, sr = tone
    out, out_sr = load_audio(wav_bytes(y, sr, subtype=subtype), sr=sr)
    assert out.dtype == np.float32 and out_sr == sr and out.shape == y.shape
    np.testing.assert_allclose(out, y, atol=2e-2 if subtype == "PCM_U8" else 1e-3)


@pytest.mark.parametrize("fmt,subtype", [("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_compressed_formats(fmt, subtype, tone):
    y, sr = tone
    out, _ = load_audio(wav_bytes(y, sr, subtype=subtype, fmt=fmt), sr=sr)
    assert out.ndim == 1 and abs(len(out) - len(y)) < 0.1 * sr and np.abs(out).max() <= 1.0
    # the 440 Hz tone survives the codec: its bin dominates the spectrum
    spec = np.abs(np.fft.rfft(out[: sr // 2]))
    assert abs(np.argmax(spec) * 2 - 440) <= 4


def test_stereo_48k_is_mixed_to_mono_and_resampled():
    sr = 48000
    t = np.arange(sr) / sr
    y = np.stack([np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], axis=1).astype(np.float32)
    out, out_sr = load_audio(wav_bytes(y, sr), sr=22050)
    assert out_sr == 22050 and out.shape == (22050,)
    assert np.abs(out).max() == pytest.approx(0.5, abs=0.02)     # the mean of the two channels


def test_float_wav_louder_than_full_scale_is_normalised():
    y = (2.0 * np.sin(np.linspace(0, 100, 8000))).astype(np.float32)
    out, _ = load_audio(wav_bytes(y, 8000, subtype="FLOAT"), sr=8000)
    assert np.abs(out).max() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("make,code", [
    (lambda: b"", "empty"),
    (lambda: b"not audio at all" * 10, "not_audio"),
    (lambda: png_bytes(Image.new("RGB", (4, 4))), "not_audio"),
    (lambda: wav_bytes(np.zeros(8000, np.float32), 8000)[:30], "not_audio"),
    (lambda: wav_bytes(np.zeros(8000 * 61, np.int16), 8000), "too_long"),
    (lambda: wav_bytes(np.zeros((100, 9), np.float32), 8000), "channels"),
    (lambda: wav_bytes(np.zeros(100, np.float32), 2000), "bad_sr"),
    (lambda: wav_bytes(np.full(100, np.nan, np.float32), 8000, subtype="FLOAT"), "nan_samples"),
    (lambda: wav_bytes(np.zeros(0, np.float32), 8000), "no_samples"),
    (lambda: b"\x00" * (MAX_BYTES + 1), "too_big"),
])
def test_bad_audio(make, code):
    with pytest.raises(UploadError) as err:
        load_audio(make(), sr=16000)
    assert err.value.code == code
    assert "Traceback" not in str(err.value) and len(str(err.value)) < 200


def test_lying_wav_header_decodes_only_what_is_there():
    data = bytearray(wav_bytes(np.zeros(800, np.int16), 8000))
    pos = data.index(b"data")
    data[pos + 4: pos + 8] = struct.pack("<I", 0x7FFFFFF0)   # claims ~4.5 hours of samples
    try:
        y, _ = load_audio(bytes(data), sr=8000)
    except UploadError as err:
        assert err.code in ("too_long", "damaged_audio", "not_audio")
    else:
        assert len(y) <= 800


def test_every_error_code_has_a_message_in_every_language():
    import re

    from engine.common import uploads
    codes = set(re.findall(r'code="(\w+)"', open(uploads.__file__).read()))
    for lang in i18n.LANGS:
        for code in codes:
            assert i18n.exists(f"common.upload.{code}", lang), (code, lang)


# --------------------------------------------------------------------------------- shared pickers on a page

IMAGE_SCRIPT = """
import streamlit as st
from ui import image_input_ui
img = image_input_ui("img")
if img is not None:
    st.image(img)
"""


@pytest.mark.parametrize("data,name", [
    (b"", "empty.png"), (png_header_only(20000, 20000), "bomb.png"), (b"%PDF-1.4 nope", "doc.jpg")])
def test_image_picker_shows_one_message_and_nothing_else(data, name):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_string(IMAGE_SCRIPT, default_timeout=60)
    at.query_params["lang"] = "ja"
    at.run()
    at.radio(key="img.source").set_value("upload").run()
    at.file_uploader(key="img.file").upload(name, data, "image/png").run()
    assert_ok(at)
    assert len(at.error) == 1 and "このファイルは使えません" in at.error[0].value
    assert not at.image


def test_image_picker_default_and_upload_show_image():
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_string(IMAGE_SCRIPT, default_timeout=60).run()
    assert_ok(at)
    assert at.image
    at.radio(key="img.source").set_value("upload").run()
    at.file_uploader(key="img.file").upload("x.png", png_bytes(Image.new("RGBA", (9, 9))), "image/png").run()
    assert_ok(at)
    assert not at.error and at.image


BAD_AUDIO = [(b"", "empty.wav"), (b"garbage" * 50, "song.mp3"),
             (wav_bytes(np.zeros(8000 * 61, np.int16), 8000), "long.wav")]


@pytest.mark.parametrize("data,name", BAD_AUDIO)
def test_audio_page_bad_upload_gets_its_message_and_nothing_else(data, name):
    from conftest import run_page
    at = run_page("pages/speech/audio.py")
    at.radio(key="audio.source").set_value("upload").run()
    at.file_uploader(key="audio.file").upload(name, data, "audio/wav").run()
    assert_ok(at)
    assert len(at.error) == 1
    assert not at.get("plotly_chart") and not at.get("audio")
