#!/usr/bin/env bash
# One model for English->German and English->French (target tags, Johnson et al. 2017)
# beside the two single-pair models under the same budget: the two bilingual models train
# STEPS steps each, the multilingual one 2 x STEPS (the same number of batches of the same
# size, so the same computation). The RNN recipe of examples/multi30k/rnn.yaml; BLEU of
# beam 5, float32, on val and test2016 for each target:
#   bash bench/multilingual.sh [STEPS]      (default 600)
# TRAINED=1 skips preprocessing and training (the models are already in OUT: en-de, en-fr,
# multi); THREADS sets train.threads (default 0: torch's).
# Reported in docs/benchmarks.md, "Many languages in one model".
set -euo pipefail
PY=${PYTHON:-python}
D=${MULTI30K:-../shared/data/multi30k}
OUT=${OUT:-$(mktemp -d)}
STEPS=${1:-600}
echo "working in $OUT"
THREADS=${THREADS:-0}
common=(--spm-vocab-size 8000 --overwrite)
if [ "${TRAINED:-0}" != 1 ]; then
for t in de fr; do
  $PY -m nmtkit preprocess --src "$D/train.en" --tgt "$D/train.$t" --src-lang en --tgt-lang $t \
    --valid-src "$D/val.en" --valid-tgt "$D/val.$t" --out "$OUT/data.en-$t" "${common[@]}" >/dev/null 2>&1
  $PY -m nmtkit build-vocab "$OUT/data.en-$t" >/dev/null
done
$PY -m nmtkit preprocess "${common[@]}" --out "$OUT/data.multi" \
  --src "$D/train.en" --tgt "$D/train.de" --src-lang en --tgt-lang de \
  --valid-src "$D/val.en" --valid-tgt "$D/val.de" \
  --src "$D/train.en" --tgt "$D/train.fr" --src-lang en --tgt-lang fr \
  --valid-src "$D/val.en" --valid-tgt "$D/val.fr" >/dev/null 2>&1
$PY -m nmtkit build-vocab "$OUT/data.multi" >/dev/null
train() {  # DATA MODEL STEPS
  local start; start=$(date +%s)
  $PY -m nmtkit train -c examples/multi30k/rnn.yaml -d "$1" -m "$2" --overwrite --no-progress \
    "train.max_steps=$3" train.max_minutes=0 "train.valid_every=$3" train.check_int8=false \
    "train.threads=$THREADS" 2>"$2.log"
  echo "trained $2: $3 steps in $(( $(date +%s) - start )) s"
}
train "$OUT/data.en-de" "$OUT/en-de" "$STEPS"
train "$OUT/data.en-fr" "$OUT/en-fr" "$STEPS"
train "$OUT/data.multi" "$OUT/multi" $((2 * STEPS))
fi
printf '%-26s %-9s %7s\n' model set BLEU
for t in de fr; do
  for set in val test2016; do
    for m in "en-$t" multi; do
      args=(); [ "$m" = multi ] && args=(--target-lang $t)
      hyp="$OUT/$m.$t.$set.txt"
      $PY -m nmtkit translate -m "$OUT/$m" "${args[@]}" --beam 5 --precision fp32 \
        --input "$D/$set.en" --output "$hyp" 2>/dev/null
      bleu=$($PY -m nmtkit score --ref "$D/$set.$t" --hyp "$hyp" --metrics bleu 2>/dev/null \
             | grep -o -E '[0-9]+\.[0-9]+' | head -1)
      printf '%-26s %-9s %7s\n' "$m -> $t" "$set" "$bleu"
    done
  done
done
