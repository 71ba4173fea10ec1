"""The syllabus: sections in order, each a list of chapter stems.

A chapter is *built* when `pages/<section>/<stem>.py` exists; Home shows the others as "coming soon".
Titles and one-line descriptions: `locales/chapters.toml` (`chapters.<stem>.title` / `.blurb`),
section names: `chapters.section.<section>`.
"""
from __future__ import annotations

from pathlib import Path

PAGES = Path(__file__).resolve().parent.parent / "pages"

SYLLABUS: dict[str, list[str]] = {
    "basics": ["backprop", "optimizers", "init_norm", "regularization", "conv"],
    "speech": ["audio", "ctc"],
    "vision": ["efficientnet", "wideresnet"],
    "detection": ["boxes", "roi", "fcos"],
    "explainability": ["gradcam", "lime_explain", "shapley"],
    "sequences": ["rnn", "seq2seq", "transformer", "word2vec", "vit"],
    "language": ["bert", "gpt3"],
    "generative": ["gan_theory", "gan2d", "dcgan", "pix2pix", "vqvae"],
    "paradigms": ["metric_learning", "maml", "ssl", "continual"],
    "rl": ["dqn", "alphago", "a3c", "world_models"],
    "graphs": ["gcn"],
    "causal": ["cfr"],
    "engineering": ["compression", "parallel", "docker"],
}


def page_path(section: str, stem: str) -> Path:
    return PAGES / section / f"{stem}.py"


def is_built(section: str, stem: str) -> bool:
    return page_path(section, stem).is_file()


def built_pages() -> list[tuple[str, str, Path]]:
    """(section, stem, path) of every chapter page that exists, in syllabus order."""
    return [(sec, stem, page_path(sec, stem))
            for sec, stems in SYLLABUS.items() for stem in stems if is_built(sec, stem)]
