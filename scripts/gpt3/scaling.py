"""Precompute the GPT-3 chapter's scaling sweep: six character GPTs, same data, same 400 steps, same seed.

    .venv/bin/python -m scripts.gpt3.scaling          # → assets/gpt3/scaling.json (a few minutes on 2 busy cores)

Fixed steps: the small models are nearly converged, the large ones are not, so the fitted exponent describes this
short-training regime only (Kaplan et al. fit converged, early-stopped models).
"""
from __future__ import annotations

import json
import time

import torch

from engine.language import gpt3


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for size in gpt3.SWEEP:
        L, H, C = size
        t0 = time.time()
        last = None
        for snap in gpt3.sweep_run(size, every=50):
            last = snap
        cfg = gpt3.GPTConfig(vocab_size=104, block_size=64, n_layer=L, n_head=H, n_embd=C)
        n = gpt3.non_embedding_params(cfg)
        rows.append(dict(n_layer=L, n_head=H, n_embd=C, n_params=n, val_loss=round(last.metrics["val_loss"], 4),
                         train_loss=round(last.metrics["train_loss"], 4), seconds=round(time.time() - t0, 1)))
        print(rows[-1], flush=True)
    fit = gpt3.fit_power_law([r["n_params"] for r in rows], [r["val_loss"] for r in rows])
    out = dict(train=gpt3.SWEEP_TRAIN, corpus="pydoc_data.topics", rows=rows,
               fit=dict(alpha=round(fit.alpha, 4), alpha_lo=round(fit.alpha_lo, 4), alpha_hi=round(fit.alpha_hi, 4),
                        n_c=fit.n_c))
    gpt3.SCALING_JSON.write_text(json.dumps(out, indent=1))
    print(out["fit"])


if __name__ == "__main__":
    main()
