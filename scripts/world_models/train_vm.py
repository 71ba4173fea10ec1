"""Train the World Models chapter's V (VAE) and M (MDN-RNN) on CartPole frames drawn by the project and write
assets/world_models/vm.pt (about 1.2 MB). About 3 minutes on one idle CPU core:

    .venv/bin/python scripts/world_models/train_vm.py

Deterministic given --seed (torch's CPU kernels, one thread). The app only loads the file (weights_only=True).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.rl import world_models as wm  # noqa: E402

DONE_POS_WEIGHT = 20.0          # episode ends are rare (≈ 1 step in 200): weight them in M's done loss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--episodes", type=int, default=400)
    ap.add_argument("--vae-steps", type=int, default=3000)
    ap.add_argument("--mdn-steps", type=int, default=3000)
    ap.add_argument("--out", type=Path, default=wm.PRETRAINED)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    eps = wm.collect_episodes(args.episodes, args.seed)
    states = np.concatenate(eps.states)
    print(f"{len(eps.states)} episodes, {len(states)} frames, {eps.terminated.mean():.0%} end by falling", flush=True)

    meta = dict(z_dim=8, ch=8, hidden=64, K=5, seed=args.seed, episodes=args.episodes, frames=len(states),
                vae_steps=args.vae_steps, mdn_steps=args.mdn_steps)
    vae, mdn = wm.build(meta)
    cfg = wm.VAEConfig(z_dim=meta["z_dim"], ch=meta["ch"], batch_size=32, lr=1e-3, steps=args.vae_steps,
                       snapshot_every=200, seed=args.seed)
    for s in wm.train_vae(cfg, states, vae):
        print(f"V step {s.step:5d}  reconstruction {s.metrics['reconstruction']:8.2f}  kl {s.metrics['kl']:6.2f}"
              f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    meta["vae_reconstruction"], meta["vae_kl"] = s.metrics["reconstruction"], s.metrics["kl"]
    vae.eval()

    zs = wm.episodes_to_z(vae, eps)
    opt = torch.optim.Adam(mdn.parameters(), lr=3e-3)
    rng = np.random.default_rng([args.seed, 2])
    for step in range(1, args.mdn_steps + 1):
        batch = wm.mdn_batch(zs, eps.actions, eps.terminated, rng.choice(len(zs), 32, replace=False))
        nll, bce = wm.mdn_loss(mdn, *batch, pos_weight=DONE_POS_WEIGHT)
        opt.zero_grad()
        (nll + bce).backward()
        torch.nn.utils.clip_grad_norm_(mdn.parameters(), 1.0)
        opt.step()
        if step % 100 == 0:
            print(f"M step {step:5d}  nll/dim {nll.item():7.3f}  done bce {bce.item():6.4f}"
                  f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    with torch.no_grad():
        # trained with ends weighted ×w, the done logit is log(w·q/(1−q)): subtract log w for calibrated q
        mdn.head.bias[-1] -= math.log(DONE_POS_WEIGHT)
    meta["mdn_nll"], meta["mdn_done_bce_weighted"] = float(nll), float(bce)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"vae": vae.state_dict(), "mdn": mdn.state_dict(), "meta": meta}, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
