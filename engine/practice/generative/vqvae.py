"""Practice items for Generative › VQ-VAE (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np
import torch

from engine.common.practice import (Choice, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices, same,
                                    shuffled, statement_choices, text)
from engine.generative import vqvae

S = "vqvae"
BETAS = (0.1, 0.25, 0.5, 1.0, 2.0)


def _vec(a) -> str:
    return "(" + ", ".join(f"{float(t):g}" for t in a) + ")"


# -------------------------------------------------------------------------------------------- nearest code
def nearest_index(rng: np.random.Generator) -> Item:
    """Which code does z_e snap to? Distractors: the farthest code, the largest dot product (‖e‖² forgotten), the
    nearest in L1, ‖e‖² − z·e without the factor 2."""
    K = int(rng.integers(4, 7))
    codebook = rng.integers(-3, 4, (K, 2)).astype(float)
    if len({tuple(r) for r in codebook.tolist()}) < K:
        raise Redraw("two equal codes")
    z = np.round(rng.uniform(-3, 3, 2), 1)
    k = int(vqvae.nearest_code(torch.tensor(z[None]), torch.tensor(codebook))[0])   # the chapter's engine
    d2 = ((codebook - z) ** 2).sum(1)                                    # (K,)
    if np.sort(d2)[1] - d2[k] < 1e-9:
        raise Redraw("a tie for the nearest code")
    mistakes = [(int(np.argmax(d2)), "farthest"), (int(np.argmax(codebook @ z)), "dot"),
                (int(np.argmin(np.abs(codebook - z).sum(1))), "l1"),
                (int(np.argmin((codebook ** 2).sum(1) - codebook @ z)), "no_two"),
                (int(np.argmin((codebook ** 2).sum(1))), "smallest_norm"), (int(np.argsort(d2)[1]), "second")]
    label = lambda j: same(f"e{_sub(j)} = {_vec(codebook[j])}")          # noqa: E731
    picked, seen = [Choice(label(k), True, text(S, "practice.nearest.right"))], {k}
    for j, key in mistakes:
        if j not in seen:
            seen.add(j)
            picked.append(Choice(label(j), False, text(S, f"practice.nearest.{key}")))
    if len(picked) < 4:
        raise Redraw("mistakes coincide with the right code")
    rows = "\n".join(f"| e{_sub(j)} | {_vec(codebook[j])} | {d2[j]:g} |" for j in range(K))
    return Item(kind="compute",
                stem=text(S, "practice.nearest.stem", z=_vec(z), codes=", ".join(f"e{_sub(j)} = {_vec(codebook[j])}"
                                                                                  for j in range(K))),
                choices=shuffled(rng, picked[:4]),
                solution=text(S, "practice.nearest.solution", rows=rows, k=f"e{_sub(k)}", d=f"{d2[k]:g}"),
                params={"z_e": z.tolist(), "codebook": codebook.tolist()}, answer=float(k), tolerance=0)


def _sub(j: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(j))


# ------------------------------------------------------------------------------------------ commitment loss
def commitment_loss(rng: np.random.Generator) -> Item:
    """β‖z_e − sg[e]‖² averaged over the D elements (the chapter's convention) for one vector; distractors: β left
    out, summed over elements, both VQ terms, the distance not squared."""
    D = int(rng.integers(2, 5))
    K = 3
    codebook = rng.integers(-2, 3, (K, D)).astype(float)
    z = np.round(rng.uniform(-2.5, 2.5, D), 1)
    beta = float(rng.choice(BETAS))
    q = vqvae.quantize(torch.tensor(z[None]), torch.tensor(codebook), beta=beta)   # the chapter's engine
    right = float(q.commitment_loss)
    k = int(q.indices[0])
    d2 = ((z - codebook[k]) ** 2).sum()
    if d2 < 1e-9:
        raise Redraw("z_e sits on its code")
    fmt = lambda v: f"{v:.4f}"                                            # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.commit.right"), [
        (right / beta, text(S, "practice.commit.no_beta")),
        (beta * d2, text(S, "practice.commit.summed")),
        (right + float(q.codebook_loss), text(S, "practice.commit.both_terms")),
        (beta * np.sqrt(d2) / D, text(S, "practice.commit.not_squared")),
    ], fmt)
    return Item(kind="compute",
                stem=text(S, "practice.commit.stem", z=_vec(z), D=D, beta=f"{beta:g}",
                          codes=", ".join(f"e{_sub(j)} = {_vec(codebook[j])}" for j in range(K))),
                choices=choices,
                solution=text(S, "practice.commit.solution", k=f"e{_sub(k)}", e=_vec(codebook[k]),
                              diff=_vec(z - codebook[k]), d2=f"{d2:.4g}", D=D, mse=fmt(d2 / D), beta=f"{beta:g}",
                              out=fmt(right)),
                setup={"vqvae.beta": beta},
                params={"z_e": z.tolist(), "codebook": codebook.tolist(), "beta": beta}, answer=right,
                tolerance=0.00005)


# ----------------------------------------------------------------------------------------------- perplexity
def perplexity_value(rng: np.random.Generator) -> Item:
    """exp(entropy) of a code-usage histogram; distractors: the entropy itself, 2^H with H in nats, the number of
    codes used, exp of the entropy in bits."""
    K = int(rng.choice([4, 6, 8]))
    counts = rng.integers(0, 9, K) * int(rng.choice([1, 5, 10]))
    if counts.sum() == 0 or (counts > 0).sum() < 2:
        raise Redraw("fewer than two codes used")
    right = vqvae.perplexity(counts)                                      # the chapter's engine
    p = counts[counts > 0] / counts.sum()
    H = float(-(p * np.log(p)).sum())
    fmt = lambda v: f"{v:.3f}"                                            # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.perp.right"), [
        (H, text(S, "practice.perp.entropy")),
        (float((counts > 0).sum()), text(S, "practice.perp.used")),
        (2.0 ** H, text(S, "practice.perp.base2")),
        (float(np.exp(H / np.log(2))), text(S, "practice.perp.bits")),
        (float(K), text(S, "practice.perp.K")),
    ], fmt)
    probs = ", ".join(f"{c / counts.sum():.3f}" for c in counts)
    return Item(kind="compute", stem=text(S, "practice.perp.stem", K=K, counts=str(counts.tolist())),
                choices=choices,
                solution=text(S, "practice.perp.solution", total=int(counts.sum()), probs=probs, H=f"{H:.4f}",
                              out=fmt(right), K=K, share=f"{right / K:.2f}"),
                setup={"vqvae.K2": K}, params={"counts": counts.tolist()}, answer=right, tolerance=0.0005)


# ----------------------------------------------------------------------------------------------- statements
TRUE = ("argmin", "sg", "codebook_term", "commit_term", "kl_const", "straight_through", "ema_kmeans",
        "perplexity")
FALSE = ("notes_sign", "commit_moves_codes", "dot_product", "argmin_grad", "kl_collapse", "perp_one_means_all",
         "codebook_moves_encoder")


def vq_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about VQ-VAE or (half the seeds) the false one; the false ones include the course
    notes' sign of the reconstruction term."""
    choices, invert = statement_choices(rng, S, "practice.vq", TRUE, FALSE)
    return Item(kind="statement", stem=text(S, "practice.vq.stem_false" if invert else "practice.vq.stem_true"),
                choices=choices, solution=text(S, "practice.vq.solution"))


# ------------------------------------------------------------------------------------ the VQ loss, a blank
_VQ_CODE = """def vq_grads(z_e, codebook, x, beta):
    z_e = z_e.clone().requires_grad_(True)                     # (N, D) encoder output
    codebook = codebook.clone().requires_grad_(True)           # (K, D)
    k = ((z_e[:, None] - codebook[None]) ** 2).sum(-1).argmin(1)
    e = codebook[k]                                            # (N, D) nearest codes
    codebook_loss = F.mse_loss(e, z_e.detach())
    commitment_loss = beta * F.mse_loss(z_e, e.detach())
    z_q = z_e + (e - z_e).detach()
    loss = F.mse_loss(z_q, x) + codebook_loss + commitment_loss   # decoder = identity here
    loss.backward()
    return torch.cat([z_e.grad.flatten(), codebook.grad.flatten()])"""
_VQ_BLANKS = {
    "codebook": ("    codebook_loss = F.mse_loss(e, z_e.detach())", {
        "cb_sg_swapped": "codebook_loss = F.mse_loss(e.detach(), z_e)",
        "cb_no_sg": "codebook_loss = F.mse_loss(e, z_e)",
        "cb_both_sg": "codebook_loss = F.mse_loss(e.detach(), z_e.detach())",
    }),
    "commitment": ("    commitment_loss = beta * F.mse_loss(z_e, e.detach())", {
        "cm_sg_swapped": "commitment_loss = beta * F.mse_loss(z_e.detach(), e)",
        "cm_no_sg": "commitment_loss = beta * F.mse_loss(z_e, e)",
        "cm_no_beta": "commitment_loss = F.mse_loss(z_e, e.detach())",
    }),
    "straight_through": ("    z_q = z_e + (e - z_e).detach()", {
        "st_code_only": "z_q = e",
        "st_detached": "z_q = e.detach()",
        "st_no_quantise": "z_q = z_e",
        "st_wrong_sg": "z_q = e + (z_e - e).detach()",
    }),
}


def _vq_grads_engine(z_e: torch.Tensor, codebook: torch.Tensor, x: torch.Tensor, beta: float) -> np.ndarray:
    """The same gradients through the chapter's `quantize` (straight-through, its two loss terms)."""
    z = z_e.clone().requires_grad_(True)
    cb = codebook.clone().requires_grad_(True)
    q = vqvae.quantize(z, cb, beta=beta)
    loss = torch.nn.functional.mse_loss(q.z_q, x) + q.codebook_loss + q.commitment_loss
    gz, gc = torch.autograd.grad(loss, (z, cb))
    return torch.cat([gz.flatten(), gc.flatten()]).numpy()


def vq_blank(rng: np.random.Generator) -> Item:
    """Fill the codebook-loss, commitment-loss or straight-through line; each candidate's gradients (with respect to
    the encoder output and the codebook) are compared with those of the chapter's `quantize`."""
    which = ("codebook", "commitment", "straight_through")[int(rng.integers(3))]
    N, D, K = int(rng.integers(2, 5)), 2, int(rng.integers(3, 6))
    z_e = torch.tensor(np.round(rng.uniform(-2, 2, (N, D)), 1))
    codebook = torch.tensor(np.round(rng.uniform(-2, 2, (K, D)), 1))
    x = torch.tensor(np.round(rng.uniform(-2, 2, (N, D)), 1))
    beta = float(rng.choice(BETAS))
    d2 = ((z_e[:, None] - codebook[None]) ** 2).sum(-1)
    if float((d2.sort(1).values[:, 1] - d2.min(1).values).min()) < 1e-6:
        raise Redraw("a tie for the nearest code")
    ex = Exec("vq_grads", (z_e, codebook, x, beta), _vq_grads_engine(z_e, codebook, x, beta), atol=1e-9)
    line, wrong_lines = _VQ_BLANKS[which]
    code = _VQ_CODE.replace(line, "    ____")
    wrong = [(w, text(S, f"practice.blank.{k}", beta=f"{beta:g}")) for k, w in wrong_lines.items()
             if not matches(execute(code.replace("____", w), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the engine's gradients")
    return Item(kind="blank", stem=text(S, f"practice.blank.stem_{which}", N=N, K=K, beta=f"{beta:g}"), code=code,
                choices=code_choices(rng, (line.strip(), text(S, f"practice.blank.right_{which}")), wrong),
                solution=text(S, "practice.blank.solution", N=N, K=K),
                setup={"vqvae.beta": beta},
                params={"z_e": z_e.tolist(), "codebook": codebook.tolist(), "x": x.tolist(), "beta": beta,
                        "which": which},
                exec=ex)


GENERATORS = (nearest_index, commitment_loss, perplexity_value, vq_statement, vq_blank)
