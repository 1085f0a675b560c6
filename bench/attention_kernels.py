"""Transformer attention: nmtkit's explicit matrix products against PyTorch's fused
``F.scaled_dot_product_attention``, in eager decoding, measured in the same run.

The fused kernel cannot return the attention weights, so the variant keeps the explicit
path where the weights are used (the last decoder layer's cross-attention, which the
decoder reports to search) and uses the fused kernel everywhere else. Each search runs
the two variants alternately, ``--repeats`` times each, and reports the best time of
each, their ratio and how many output lines differ.

    python bench/attention_kernels.py --model-dir runs/m30k/tf2 \\
        --input ../shared/data/multi30k/test2016.en --beams 1,5 --repeats 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.nn import functional as F

import nmtkit.models.transformer_layers as layers
from nmtkit.model_folder import ModelFolder
from nmtkit.search.options import SearchOptions
from nmtkit.translate.translator import TranslateOptions, Translator

EXPLICIT = layers.TransformerAttention.attend


def fused(self, x, keys, values, mask):
    if getattr(self, "weights_used", False):
        return EXPLICIT(self, x, keys, values, mask)
    q = self._split(self.query(x))
    context = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask,
                                             dropout_p=self.dropout.p if self.training else 0.0)
    batch, _, q_len, _ = context.shape
    return self.out(context.transpose(1, 2).reshape(batch, q_len, -1)), None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--beams", default="1,5")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    lines = args.input.read_text(encoding="utf-8").splitlines()
    loaded = ModelFolder(args.model_dir).load()
    decoder = loaded.model.decoder
    if not hasattr(decoder, "layers"):
        raise SystemExit(f"{args.model_dir}: not a Transformer decoder")
    decoder.layers[-1].cross_attn.weights_used = True
    print(f"{args.model_dir}, {len(lines)} lines, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads, best of {args.repeats}")
    print("| beam | explicit sent/s | fused sent/s | fused / explicit | lines differ |")
    print("|---:|---:|---:|---:|---:|")
    for beam in map(int, args.beams.split(",")):
        opts = TranslateOptions(search=SearchOptions(beam=beam), batch_size=args.batch_size,
                                compile="off", workers=1)
        translator = Translator(loaded, opts)
        best, texts = {}, {}
        for _ in range(args.repeats):
            for name, attend in (("explicit", EXPLICIT), ("fused", fused)):
                layers.TransformerAttention.attend = attend
                start = time.perf_counter()
                out = translator.translate_lines(lines)
                seconds = time.perf_counter() - start
                best[name] = min(best.get(name, seconds), seconds)
                texts[name] = [t.text for t in out]
        layers.TransformerAttention.attend = EXPLICIT
        differ = sum(a != b for a, b in zip(texts["explicit"], texts["fused"]))
        e, f = len(lines) / best["explicit"], len(lines) / best["fused"]
        print(f"| {beam} | {e:.1f} | {f:.1f} | {f / e:.2f} | {differ} |", flush=True)


if __name__ == "__main__":
    main()
