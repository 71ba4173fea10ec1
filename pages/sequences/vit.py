"""Sequences & attention › Vision Transformer: the learner's image cut into patches, the linear patch embedding, [CLS]
and position embeddings, [CLS]'s attention, the cost in tokens, and a small ViT trained live on real digits next to
a CNN with the same number of parameters (engine/sequences/vit.py; the run object of ui/training.py)."""
import numpy as np
import streamlit as st

from engine.figures.common import si
from engine.figures.sequences import vit as figs
from engine.sequences import vit as V
from ui import charts, formula, image_input_ui, labels, show_source, t, training

K = "vit"
COST_SIDES = np.array([32, 64, 96, 128, 224, 384, 512, 768, 1024])
BASE = dict(d=768, m=3072, heads=12)           # ViT-B/16's width, MLP width and heads (Dosovitskiy et al., Table 1)


@st.cache_data(max_entries=16, show_spinner=False)
def prepare(rgb: np.ndarray, side: int) -> np.ndarray:
    return V.prepare_image(rgb, side)


@st.cache_data(max_entries=32, show_spinner=False)
def embed(image: np.ndarray, p: int) -> V.Embedding:
    return V.embed(image, p)


st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))
st.info(t(f"{K}.offline"))

# ---- 1. patches ------------------------------------------------------------------------------------------------
st.header(t(f"{K}.patch_header"))
st.markdown(t(f"{K}.patch_text"))
formula(f"{K}.patch_formula")
img = image_input_ui(K)
if img is None:
    st.stop()
c = st.columns(2)
side = c[0].select_slider(t(f"{K}.side"), V.SIDES, 96, key=f"{K}.side", bind="query-params")
p = c[1].select_slider(t(f"{K}.p"), V.PATCHES, 16, key=f"{K}.p", bind="query-params")
image = prepare(np.asarray(img), side)
emb = embed(image, p)
n = len(emb.patches)
formula(f"{K}.patch_numbers", h=side, w=side, p=p, gh=emb.grid[0], gw=emb.grid[1], n=n, cpp=emb.patches.shape[1])
charts.panels(figs.plot_patches(emb, labels(f"{K}.fig_patches")), key=f"{K}.fig_patches")
st.caption(t(f"{K}.patch_caption", h0=img.height, w0=img.width, side=side, n=n, k=min(n, figs.MAX_STRIP)))
show_source(V.patchify)

# ---- 2. embedding ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.embed_header"))
st.markdown(t(f"{K}.embed_text"))
formula(f"{K}.embed_formula")
st.plotly_chart(figs.plot_tokens(emb, labels(f"{K}.fig_tokens")), key=f"{K}.fig_tokens")
st.caption(t(f"{K}.embed_caption", n=n, n1=n + 1, d=V.D_IMAGE, cpp=emb.patches.shape[1], p=p,
             params=f"{emb.weight.size + emb.bias.size:,}", diff=f"{emb.conv_diff:.1e}"))
show_source(V.embed)

# ---- 3. [CLS]'s attention --------------------------------------------------------------------------------------
st.header(t(f"{K}.attn_header"))
st.markdown(t(f"{K}.attn_text"))
formula(f"{K}.attn_formula")
charts.panels(figs.plot_cls_attention(emb, labels(f"{K}.fig_attn")), key=f"{K}.fig_attn")
st.caption(t(f"{K}.attn_caption", h=V.HEADS_IMAGE, dk=V.D_IMAGE // V.HEADS_IMAGE, n=n,
             uniform=f"{1 / (n + 1):.4f}", top=f"{emb.cls_attn.mean(0).max():.4f}",
             self_=f"{emb.cls_self.mean():.4f}", diff=f"{emb.mha_diff:.1e}"))
show_source(V.cls_attention)

# ---- 4. the cost -----------------------------------------------------------------------------------------------
st.header(t(f"{K}.cost_header"))
st.markdown(t(f"{K}.cost_text"))
formula(f"{K}.cost_formula")
cost = V.layer_cost(n, **BASE)
m = st.columns(3)
m[0].metric(t(f"{K}.metric_tokens"), f"{cost.n:,}")
m[1].metric(t(f"{K}.metric_macs"), si(cost.total), help=f"{cost.total:,}")
m[2].metric(t(f"{K}.metric_share"), f"{100 * cost.scores / cost.total:.1f} %")
charts.panels(figs.plot_cost(COST_SIDES, p, labels=labels(f"{K}.fig_cost"), mark=side, **BASE), key=f"{K}.fig_cost")
st.caption(t(f"{K}.cost_caption", p=p, side=side, n=cost.n, qkv=f"{cost.qkv_out:,}", scores=f"{cost.scores:,}",
             mlp=f"{cost.mlp:,}", mem=f"{cost.attn_memory:,}", cross=6 * BASE["d"]))
show_source(V.layer_cost)

# ---- 5. a small ViT and a CNN on digits ------------------------------------------------------------------------
st.header(t(f"{K}.train_header"))
st.markdown(t(f"{K}.train_text", target=round(100 * V.TARGET_ACC)))
c = st.columns(2)
n_train = c[0].select_slider(t(f"{K}.n_train"), V.TRAIN_SIZES, 4000, key=f"{K}.n_train", bind="query-params")
digit_p = c[1].select_slider(t(f"{K}.digit_p"), V.DIGIT_PATCHES, 7, key=f"{K}.digit_p", bind="query-params")
cfg = V.DigitsConfig(n_train=n_train, p=digit_p)
vit_n = V.vit_params(28, digit_p, 1, cfg.d, cfg.depth, cfg.m)
width = V.matching_cnn_width(vit_n)
st.caption(t(f"{K}.models_caption", p=digit_p, n=(28 // digit_p) ** 2, d=cfg.d, L=cfg.depth, h=cfg.heads, m=cfg.m,
             vit=f"{vit_n:,}", c=width, c2=2 * width, cnn=f"{V.cnn_params(width):,}", lr=cfg.lr, b=cfg.batch))
lab = labels(f"{K}.fig_train")


def draw(run: training.Run) -> None:
    snaps = run.snaps
    charts.live(figs.plot_training(snaps, lab), key=f"{K}.fig_train")
    v, c_ = snaps["vit"], snaps["cnn"]
    reached = next((int(s) for s, a in zip(v.steps, v.test_acc) if a >= V.TARGET_ACC), None)
    st.caption(t(f"{K}.train_status", step=run.step, vit=f"{100 * v.test_acc[-1]:.1f}",
                 cnn=f"{100 * c_.test_acc[-1]:.1f}", vit_tr=f"{100 * v.train_acc[-1]:.0f}",
                 cnn_tr=f"{100 * c_.train_acc[-1]:.0f}", seconds=f"{v.seconds + c_.seconds:.1f}",
                 target=round(100 * V.TARGET_ACC),
                 reached=t(f"{K}.reached", step=reached) if reached is not None else t(f"{K}.not_reached")))
    st.markdown(t(f"{K}.digit_attn_text"))
    charts.live(figs.plot_digit_attention(v, labels(f"{K}.fig_digits")), key=f"{K}.fig_digits")
    charts.live(figs.plot_position_similarity(v, labels(f"{K}.fig_pos")), key=f"{K}.fig_pos")
    st.caption(t(f"{K}.pos_caption", n=len(v.pos_sim), g=(28 // digit_p)))


run = training.start(K, cfg, V.race)
training.live(run, draw)
st.markdown(t(f"{K}.hunger_text"))
show_source(V.build_vit)
show_source(V.train_digits)
st.caption(t(f"{K}.references"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("vit")
