"""Input pickers shared by pages: default sample / upload / microphone, all through engine.common.uploads."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from engine.common import uploads

ASSETS = Path(__file__).resolve().parent.parent / "assets"
# Default clips (assets/README.md says where they come from); key → file.
DEFAULT_CLIPS = {
    "quick_brown_fox": "audio/quick_brown_fox.wav",
    "hello_world": "audio/hello_world.wav",
    "counting": "audio/counting.wav",
    "konnichiwa_sekai": "audio/konnichiwa_sekai.wav",
}
# scikit-image's bundled photos: no file of ours needed.
DEFAULT_IMAGES = ("chelsea", "coffee", "astronaut")
# Streamlit refuses a bigger file in the browser (server.maxUploadSize, the same number): only a red "!" shows, so
# the label and the waiting message say the limit.
MAX_MB = uploads.MAX_BYTES // 2**20


@dataclass(frozen=True)
class AudioClip:
    y: np.ndarray          # (n,) float32 mono, peak ≤ 1
    sr: int                # Hz
    name: str              # shown to the user


def _t(key: str, **kw) -> str:
    from ui import t
    return t(key, **kw)


def _fmt(prefix: str):
    from ui import fmt
    return fmt(prefix)


def show_upload_error(err: Exception) -> None:
    """The one way a page shows a refused file."""
    from ui import i18n, lang
    code = getattr(err, "code", None)
    key = f"common.upload.{code}"
    reason = i18n.lookup(key, lang()).format(**err.params) if code and i18n.exists(key) else str(err)
    st.error(_t("common.upload_error", reason=reason), icon=":material/warning:")


@st.cache_data(max_entries=16, show_spinner=False)
def _decode_audio(data: bytes, sr: int) -> tuple[np.ndarray, int]:
    return uploads.load_audio(data, sr=sr)


@st.cache_data(max_entries=16, show_spinner=False)
def _decode_image(data: bytes):
    return uploads.load_image(data)


@st.cache_data(max_entries=8, show_spinner=False)
def sample_image(name: str):
    """A scikit-image photo by name, as an RGB PIL image (the image inputs' default)."""
    import skimage.data
    from PIL import Image
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def audio_input_ui(key: str, *, sr: int = 16000) -> AudioClip | None:
    """Default clip / upload / microphone → mono float32 at `sr`, or None (the reason is shown on the page)."""
    options = ("default", "upload", "mic")
    # the source is not in the URL: a link to a setup made on the reader's own file opens with the default sample
    source = st.radio(_t("common.input.source"), options, horizontal=True, key=f"{key}.source",
                      format_func=_fmt("common.input"))
    if source == "default":
        clip = st.selectbox(_t("common.input.sample"), list(DEFAULT_CLIPS), key=f"{key}.sample",
                            format_func=_fmt("common.clips"), bind="query-params")
        data, name = (ASSETS / DEFAULT_CLIPS[clip]).read_bytes(), _t(f"common.clips.{clip}")
    elif source == "upload":
        f = st.file_uploader(_t("common.input.upload_audio", mb=MAX_MB), type=list(uploads.AUDIO_TYPES),
                             key=f"{key}.file",
                             help=_t("common.input.audio_limits", mb=MAX_MB,
                                     seconds=int(uploads.MAX_SECONDS)))
        if f is None:
            st.info(_t("common.input.upload_prompt", mb=MAX_MB))
            return None
        st.caption(_t("common.share.upload_not_shared"))
        data, name = f.getvalue(), f.name
    else:
        f = st.audio_input(_t("common.input.record"), key=f"{key}.mic")
        if f is None:
            st.info(_t("common.input.record_prompt"))
            return None
        st.caption(_t("common.share.upload_not_shared"))
        data, name = f.getvalue(), _t("common.input.recording")
    try:
        y, rate = _decode_audio(data, sr)
    except uploads.UploadError as err:
        show_upload_error(err)
        return None
    return AudioClip(y=y, sr=rate, name=name)


def image_input_ui(key: str):
    """scikit-image sample photo / upload → RGB PIL image, or None (the reason is shown on the page)."""
    source = st.radio(_t("common.input.source"), ("default", "upload"), horizontal=True, key=f"{key}.source",
                      format_func=_fmt("common.input"))    # not in the URL (see audio_input_ui)
    if source == "default":
        name = st.selectbox(_t("common.input.sample"), DEFAULT_IMAGES, key=f"{key}.sample",
                            format_func=_fmt("common.images"), bind="query-params")
        return sample_image(name)
    f = st.file_uploader(_t("common.input.upload_image", mb=MAX_MB), type=list(uploads.IMAGE_TYPES), key=f"{key}.file",
                         help=_t("common.input.image_limits", mb=MAX_MB,
                                 mp=int(uploads.MAX_PIXELS / 1e6)))
    if f is None:
        st.info(_t("common.input.upload_prompt", mb=MAX_MB))
        return None
    st.caption(_t("common.share.upload_not_shared"))
    try:
        return _decode_image(f.getvalue())
    except uploads.UploadError as err:
        show_upload_error(err)
        return None
