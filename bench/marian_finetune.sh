#!/usr/bin/env bash
# An OPUS-MT-style Marian model, imported and fine-tuned on Multi30k en-de:
#   bash bench/marian_finetune.sh [STEPS]        (default 200; BATCH tokens, default 2048;
#                                                 THREADS: train.threads, default 0)
# 1. a Marian model in Hugging Face's format (transformers' own classes and initialisation,
#    sentencepiece models trained on Multi30k: a stand-in for a downloaded OPUS-MT model);
# 2. nmtkit import; preprocess and build-vocab --from-model; train --init-from for STEPS;
# 3. the same training killed (SIGKILL) after its checkpoint at STEPS/3*2 and resumed:
#    are its final weights bit-identical?;
# 4. test2016 translated at batch sizes 1, 7 and 64 in float32: the same lines?;
# 5. exported to CTranslate2: the same greedy lines?; and BLEU.
# Reported in docs/benchmarks.md, "Starting from an OPUS-MT model".
set -euo pipefail
PY=${PYTHON:-python}
D=${MULTI30K:-../shared/data/multi30k}
OUT=${OUT:-$(mktemp -d)}
STEPS=${1:-200}
BATCH=${BATCH:-2048}
EVERY=$((STEPS / 3))
echo "working in $OUT"
$PY bench/make_marian.py "$D/train.en" "$D/train.de" "$OUT/hf" --d-model 256 --layers 3
$PY -m nmtkit import "$OUT/hf" "$OUT/imported"
$PY -m nmtkit preprocess --src "$D/train.en" --tgt "$D/train.de" --valid-src "$D/val.en" \
  --valid-tgt "$D/val.de" --from-model "$OUT/imported" --out "$OUT/data" >/dev/null
$PY -m nmtkit build-vocab "$OUT/data" --from-model "$OUT/imported" >/dev/null
train=(train -d "$OUT/data" --init-from "$OUT/imported" --no-progress
       "train.max_steps=$STEPS" "train.valid_every=$EVERY" "train.batch_tokens=$BATCH"
       train.lr=0.0005 train.schedule=inverse_sqrt train.warmup_steps=100
       "train.betas=[0.9,0.98]" train.clip_norm=0 train.check_int8=false train.valid_bleu=false
       "train.threads=${THREADS:-0}")
start=$(date +%s)
$PY -m nmtkit "${train[@]}" -m "$OUT/whole" 2>"$OUT/whole.log"
echo "uninterrupted: $STEPS steps in $(( $(date +%s) - start )) s"
# the same run, killed once its second checkpoint is written, then resumed
$PY -m nmtkit "${train[@]}" -m "$OUT/cut" 2>"$OUT/cut.log" &
pid=$!
until [ -f "$OUT/cut/checkpoint-$((2 * EVERY)).pt" ] && [ -f "$OUT/cut/train_state.pt" ] \
      && $PY -c "import json,sys; sys.exit(json.load(open('$OUT/cut/meta.json'))['steps'] < $((2 * EVERY)))" 2>/dev/null; do
  sleep 1
done
kill -9 $pid; wait $pid 2>/dev/null || true
echo "killed after step $(grep -o '"steps": [0-9]*' "$OUT/cut/meta.json")"
$PY -m nmtkit "${train[@]}" -m "$OUT/cut" 2>"$OUT/resumed.log"
grep -o "resuming.*" "$OUT/resumed.log" | head -1
$PY - "$OUT" <<'PYEOF'
import sys, torch
from nmtkit.model_folder.tensors import load_tensors
out = sys.argv[1]
a = load_tensors(f"{out}/whole/train_state.pt")["model"]
b = load_tensors(f"{out}/cut/train_state.pt")["model"]
same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
print(f"killed and resumed: final weights bit-identical to the uninterrupted run: {same}")
PYEOF
for bs in 1 7 64; do
  $PY -m nmtkit translate -m "$OUT/whole" --precision fp32 --beam 5 --batch-size $bs \
    --input "$D/test2016.en" --output "$OUT/test.b$bs.txt" 2>/dev/null
done
cmp -s "$OUT/test.b1.txt" "$OUT/test.b7.txt" && cmp -s "$OUT/test.b1.txt" "$OUT/test.b64.txt" \
  && echo "batch 1, 7, 64: identical lines" || echo "batch 1, 7, 64: LINES DIFFER"
for set in val test2016; do
  $PY -m nmtkit translate -m "$OUT/whole" --precision fp32 --beam 5 --input "$D/$set.en" \
    --output "$OUT/$set.beam5.txt" 2>/dev/null
  echo "$set beam 5 BLEU: $($PY -m nmtkit score --ref "$D/$set.de" --hyp "$OUT/$set.beam5.txt" \
        --metrics bleu 2>/dev/null | grep -o -E '[0-9]+\.[0-9]+' | head -1)"
done
$PY -m nmtkit export "$OUT/whole" "$OUT/ct2"
$PY -m nmtkit translate -m "$OUT/whole" --precision fp32 --beam 1 --input "$D/test2016.en" \
  --output "$OUT/test.greedy.txt" 2>/dev/null
$PY - "$OUT" "$D/test2016.en" <<'PYEOF'
import sys
from pathlib import Path
import ctranslate2
from nmtkit.model_folder import ModelFolder
from nmtkit.data.text import normalize
out, src = Path(sys.argv[1]), Path(sys.argv[2])
lm = ModelFolder.open(out / "whole").load()
lines = [normalize(line) for line in src.read_text(encoding="utf-8").splitlines()]
pieces = [lm.src_tokenizer.encode(line) for line in lines]
t = ctranslate2.Translator(str(out / "ct2"), device="cpu", inter_threads=1, intra_threads=2)
# nmtkit's default step limit per line: 2 x source pieces + 10 (at most 256), the end of
# sentence included (CTranslate2 does not count it); so one line at a time
theirs = [lm.tgt_tokenizer.decode(t.translate_batch(
              [p], beam_size=1, min_decoding_length=0,
              max_decoding_length=min(len(p) * 2 + 10, 256) - 1)[0].hypotheses[0])
          for p in pieces]
ours = (out / "test.greedy.txt").read_text(encoding="utf-8").splitlines()
same = sum(a == b for a, b in zip(theirs, ours))
print(f"CTranslate2 greedy: {same} of {len(ours)} test2016 lines identical to nmtkit's")
PYEOF
