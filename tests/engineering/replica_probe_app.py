"""A one-widget Streamlit script for the two-replica tests: it shows what it computed from the uploaded image
and which server process computed it. Run as `streamlit run tests/engineering/replica_probe_app.py`."""
import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from engine.common.uploads import load_image  # noqa: E402  (the one loader, bounded before decoding)

st.markdown(f"replica pid {os.getpid()}")
upload = st.file_uploader("image", type=["png"], key="probe.upload")
if upload is not None:
    pixels = np.asarray(load_image(upload.getvalue()))              # (H, W, 3) uint8
    digest = hashlib.sha256(pixels.tobytes()).hexdigest()[:16]
    st.markdown(f"answer {digest} {pixels.shape[1]}x{pixels.shape[0]} pid {os.getpid()}")
