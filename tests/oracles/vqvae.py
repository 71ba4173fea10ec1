"""vector-quantize-pytorch as the reference quantiser (test and benchmark only; the app never imports it)."""
from __future__ import annotations

import torch


def library_quantize(z_e: torch.Tensor, codebook: torch.Tensor, beta: float):
    """`vector_quantize_pytorch.VectorQuantize` with the given codebook (K, D), rotation trick off, no EMA update,
    in training mode so it returns its loss. Returns (z_q (N, D), indices (N,), loss β·mse, unweighted mse)."""
    from vector_quantize_pytorch import VectorQuantize

    K, D = codebook.shape
    vq = VectorQuantize(dim=D, codebook_size=K, commitment_weight=beta, rotation_trick=False, ema_update=False,
                        learnable_codebook=True)
    with torch.no_grad():
        vq._codebook.embed.copy_(codebook[None])
    quantized, indices, loss, breakdown = vq(z_e[None], return_loss_breakdown=True)
    return quantized[0], indices[0], loss, breakdown.commitment
