"""BERT chapter speed and memory (issue #15): MiniLM attention on a 64-token input ≤ 0.3 s; the live tiny BERT
≥ 20 optimiser steps/s (snapshots included); RSS added by the page ≤ 400 MB. The reference measured in the same run
for the encoder is Hugging Face's BertModel (eager attention) on the same weights and input."""
from __future__ import annotations

import json
import subprocess
import sys

import torch

from bench.common import PAGE_PROBE_HEAD, ROOT, best_of, report
from engine.language import bert

RSS_PROBE = PAGE_PROBE_HEAD + r"""
at = AppTest.from_file({page!r}, default_timeout=600).run()
assert not at.exception, [e.value for e in at.exception]
at.button(key="bert.run.step").click().run()
print(json.dumps({{"before": before, "after": rss(), "dynamo": "torch._dynamo" in sys.modules}}))
"""


ONE_THREAD = r"""
import sys, torch
sys.path.insert(0, {root!r})
torch.set_num_threads(1)                      # separate process: a measurement condition
from engine.language import bert
pre = bert.load_minilm()
cfg = bert.PretrainConfig(max_steps=100)
last = list(bert.train_pretraining(cfg, pre.tokenizer))[-1]
print(last.step / last.seconds)
"""


def main() -> None:
    print(f"torch intra-op threads: {torch.get_num_threads()}")
    pre = bert.load_minilm()
    text = " ".join(["the animal didn't cross the street because it was too tired"] * 8)
    enc = bert.encode_input(pre.tokenizer, text)
    assert len(enc.tokens) == 64
    bert.attention(pre, enc)                                       # warm-up
    mine = best_of(lambda: bert.attention(pre, enc), repeat=7)
    sys.path.insert(0, str(ROOT / "tests"))
    import oracles.bert as ref

    hf = ref.hf_bert(bert.package_dir())
    ids, types = torch.as_tensor(enc.input_ids)[None], torch.as_tensor(enc.token_type_ids)[None]

    def theirs():
        with torch.no_grad():
            hf(ids, token_type_ids=types, output_attentions=True, output_hidden_states=True)

    theirs()
    report("MiniLM: 72 attention maps + hidden states, 64 tokens (s) vs 0.3 s", mine, 0.3)
    print(f"  (transformers.BertModel on the same input: {best_of(theirs, repeat=7):.4f} s)")

    cfg = bert.PretrainConfig(max_steps=100)
    data = bert.build_data(pre.tokenizer, cfg)
    last = list(bert.train_pretraining(cfg, pre.tokenizer, data))[-1]
    per_step = last.seconds / last.step
    report("tiny BERT (MLM+NSP): seconds per optimiser step vs 1/20 s", per_step, 1 / 20)
    print(f"  ({1 / per_step:.1f} steps/s; {last.n_parameters:,} parameters, batch {cfg.batch_size} × "
          f"{cfg.max_len} tokens, V = {last.vocab_size})")

    one = subprocess.run([sys.executable, "-c", ONE_THREAD.format(root=str(ROOT))], cwd=ROOT, capture_output=True,
                         text=True, timeout=900)
    if one.returncode == 0:
        print(f"  (one intra-op thread, separate process: {float(one.stdout.split()[-1]):.1f} steps/s)")

    out = subprocess.run([sys.executable, "-c", RSS_PROBE.format(root=str(ROOT),
                                                                 page=str(ROOT / "pages/language/bert.py"))],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    rss = json.loads(out.stdout.strip().splitlines()[-1])
    report("RSS added by the BERT page (MiB) vs 400 MiB", rss["after"] - rss["before"], 400, unit="MiB")
    print(f"  (torch._dynamo imported: {rss['dynamo']}; torch.optim's constructors import it, ~140 MiB, so the page "
          f"uses engine/common/optim.py's Adam and scipy's L-BFGS instead; both pages together: python -m bench gpt3)")


if __name__ == "__main__":
    main()
