"""Reference adapters for the BERT chapter (test/benchmark only): Hugging Face transformers and tokenizers loaded on
the same files as the project's own engine/language/bert.py."""
from __future__ import annotations

from pathlib import Path

import torch


def hf_tokenizers(folder: Path):
    """(transformers.BertTokenizer, tokenizers.Tokenizer) from MiniLM's vocabulary / tokenizer.json, no padding."""
    from tokenizers import Tokenizer
    from transformers import BertTokenizer

    fast = Tokenizer.from_file(str(folder / "tokenizer.json"))
    fast.no_padding()
    fast.no_truncation()
    return BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True), fast


def hf_bert(folder: Path):
    """transformers.BertModel with eager attention (so attention maps come back), eval mode."""
    from transformers import BertModel

    return BertModel.from_pretrained(str(folder), attn_implementation="eager").eval()


def hf_pretraining(model, vocab_size: int):
    """A transformers.BertForPreTraining with the same config and weights as our tiny BertForPreTraining."""
    from transformers import BertConfig, BertForPreTraining

    c = model.bert.config
    cfg = BertConfig(vocab_size=vocab_size, hidden_size=c.hidden_size, num_hidden_layers=c.num_hidden_layers,
                     num_attention_heads=c.num_attention_heads, intermediate_size=c.intermediate_size,
                     max_position_embeddings=c.max_position_embeddings, type_vocab_size=c.type_vocab_size,
                     layer_norm_eps=c.layer_norm_eps, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                     attn_implementation="eager")
    ref = BertForPreTraining(cfg).eval()
    ours = model.state_dict()
    state = {}
    for k in ref.state_dict():
        if k.startswith("bert."):
            src = k
        elif k.startswith("cls.predictions.transform."):
            src = k.replace("cls.predictions.", "")
        elif k in ("cls.predictions.bias", "cls.predictions.decoder.bias"):
            src = "mlm_bias"
        elif k == "cls.predictions.decoder.weight":
            src = "bert.embeddings.word_embeddings.weight"
        elif k.startswith("cls.seq_relationship."):
            src = k.removeprefix("cls.")
        else:
            continue
        state[k] = ours[src]
    missing = ref.load_state_dict(state, strict=False)
    assert not [m for m in missing.missing_keys if "position_ids" not in m], missing
    return ref


def count_hf(hidden: int, layers: int, heads: int) -> int:
    """Parameters of transformers.BertModel (pooler included) with BERT's vocabulary, built on the meta device."""
    from transformers import BertConfig, BertModel

    with torch.device("meta"):
        m = BertModel(BertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                                 intermediate_size=4 * hidden))
    return sum(p.numel() for p in m.parameters())
