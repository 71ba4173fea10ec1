"""Pretrain the GPT-3 chapter's character-level GPTs (CPU, deterministic given the seed).

    .venv/bin/python -m scripts.gpt3.pretrain            # English (pydoc topics) and Japanese (the app's [ja] text)
    .venv/bin/python -m scripts.gpt3.pretrain --lang en  # one of them

English: 4 layers, 4 heads, d_model 128, context 128, 1 500 steps of 32 windows → assets/gpt3/char_gpt_en.pt
(~1.7 MB fp16), about 6 minutes on 2 busy CPU cores. Japanese: a smaller model on a much smaller corpus (the app's
own Japanese strings), 2 layers → char_gpt_ja.pt. Pretraining is short: the model writes pydoc-flavoured English
with real words and Python keywords, not sense.
"""
from __future__ import annotations

import argparse
import time

import torch

from engine.language import gpt3

SETTINGS = {
    "en": dict(cfg=dict(block_size=64, n_layer=3, n_head=4, n_embd=128), steps=1000, batch_size=24, lr=3e-3,
               min_count=1),
    "ja": dict(cfg=dict(block_size=64, n_layer=2, n_head=4, n_embd=128), steps=300, batch_size=32, lr=3e-3,
               min_count=2),
}


def pretrain(lang: str, seed: int = 0, steps: int | None = None) -> None:
    s = SETTINGS[lang]
    text = gpt3.english_corpus() if lang == "en" else gpt3.japanese_corpus()
    vocab = gpt3.build_vocab(text, s["min_count"])
    data = torch.tensor(vocab.encode(text), dtype=torch.long)
    n = int(0.95 * len(data))
    cfg = gpt3.GPTConfig(vocab_size=vocab.size, **s["cfg"])
    model = gpt3.init_gpt(cfg, seed)
    steps = steps or s["steps"]
    print(f"[{lang}] {len(text):,} chars, vocab {vocab.size}, N = {gpt3.non_embedding_params(model):,} "
          f"non-embedding params, {steps} steps", flush=True)
    t0 = time.time()
    last = None
    for snap in gpt3.train_lm(cfg, data[:n], data[n:], steps=steps, batch_size=s["batch_size"], lr=s["lr"],
                              seed=seed, model=model, every=50):
        last = snap
        print(f"  step {snap.step:5d}  train {snap.metrics['train_loss']:.3f}  val {snap.metrics['val_loss']:.3f}"
              f"  {time.time() - t0:6.0f} s", flush=True)
    meta = dict(corpus="pydoc_data.topics" if lang == "en" else "locales/*.toml [ja]", steps=steps, seed=seed,
                val_loss=round(last.metrics["val_loss"], 4), chars=len(text), seconds=round(time.time() - t0))
    gpt3.ASSETS.mkdir(parents=True, exist_ok=True)
    gpt3.save_model(model, vocab, gpt3.WEIGHTS[lang], meta)
    print(f"[{lang}] saved {gpt3.WEIGHTS[lang]} ({gpt3.WEIGHTS[lang].stat().st_size / 1e6:.2f} MB) {meta}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", choices=("en", "ja", "both"), default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None)
    a = ap.parse_args()
    torch.set_num_threads(2)
    for lang in (("en", "ja") if a.lang == "both" else (a.lang,)):
        pretrain(lang, a.seed, a.steps)


if __name__ == "__main__":
    main()
