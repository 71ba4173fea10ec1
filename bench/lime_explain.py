"""LIME target (issue 5): 1000 samples on the default image ≤ 8 s on this machine (batched forward passes under
torch.inference_mode, model at engine.classifier.SMALL_INPUT px; run it with OMP_NUM_THREADS=1 to mirror app.py,
which sets one intra-op thread per call). The reference printed beside it is 1000 plain
batched forward passes of the same model, measured in this run (LIME's floor)."""
from __future__ import annotations

import time

import numpy as np

from bench.common import report


def main() -> None:
    import skimage.data
    from PIL import Image

    from engine import classifier, lime_explain

    model = classifier.load_mobilenet_v2()
    photo = classifier.preprocess(Image.fromarray(skimage.data.chelsea()), size=classifier.SMALL_INPUT)
    predict = lambda b: classifier.predict_proba(model, b, batch_size=50)   # noqa: E731
    segments = lime_explain.segment(photo.rgb, "slic", n_segments=30)
    predict(np.repeat(photo.rgb[None], 50, 0))                                 # warm-up
    start = time.perf_counter()
    predict(np.repeat(photo.rgb[None], 1000, 0))
    floor = time.perf_counter() - start
    start = time.perf_counter()
    lime_explain.explain_image(predict, photo.rgb, 285, segments, num_samples=1000, seed=0)
    lime_s = time.perf_counter() - start
    report("LIME 1000 samples / budget 8 s", lime_s, 8.0, target=1.0)
    report("LIME 1000 samples / 1000 plain forwards (overhead)", lime_s, floor, target=1.5)
