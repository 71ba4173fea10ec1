"""Pretrain the GPT-3 chapter's character-level GPTs (CPU, deterministic given the seed).

    .venv/bin/python -m scripts.gpt3.pretrain            # English (pydoc topics) and Japanese (the app's [ja] text)
    .venv/bin/python -m scripts.gpt3.pretrain --lang en  # one of them

English: 3 layers, 4 heads, d_model 128, context 64, 1 000 steps of 24 windows → assets/gpt3/char_gpt_en.pt
(1.25 MB fp16, validation loss 1.22 nats/char); the shipped file took 11 minutes on a 2-core machine shared by
nine agents (one torch thread, as set here, is several times faster than two on an oversubscribed machine).
Japanese: 2 layers, context 64, 800 steps on the app's own Japanese strings (~35 k characters, whatever
locales/*.toml hold when it runs) → char_gpt_ja.pt (1.0 MB); the corpus is tiny and the model memorises it
(validation loss is lowest near step 250 and rises after: it recites the app's sentences). Both are short
pretraining runs: the English model writes pydoc-flavoured English with real words and Python keywords, not sense.
"""
from __future__ import annotations

import argparse
import time

import torch

from engine.language import gpt3

SETTINGS = {
    "en": dict(cfg=dict(block_size=64, n_layer=3, n_head=4, n_embd=128), steps=1000, batch_size=24, lr=3e-3,
               min_count=1),
    "ja": dict(cfg=dict(block_size=64, n_layer=2, n_head=4, n_embd=128), steps=800, batch_size=32, lr=3e-3,
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
    torch.set_num_threads(1)
    for lang in (("en", "ja") if a.lang == "both" else (a.lang,)):
        pretrain(lang, a.seed, a.steps)


if __name__ == "__main__":
    main()
