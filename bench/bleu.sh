#!/usr/bin/env bash
# BLEU (and chrF) of each model on Multi30k val and test2016, beam 5, float32:
#   bash bench/bleu.sh [--tgt de] MODEL_DIR [MODEL_DIR ...] [-- TRANSLATE_OPTIONS]
# --tgt: the target language's files (default de). Used for docs/benchmarks.md's
# "Subword regularization" table.
set -euo pipefail
PY=${PYTHON:-python}
D=${MULTI30K:-../shared/data/multi30k}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
T=de
if [ "${1:-}" = --tgt ]; then T=$2; shift 2; fi
models=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do models+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
printf '%-50s %-9s %7s %7s\n' model set BLEU chrF
for m in "${models[@]}"; do
  for set in val test2016; do
    hyp=$OUT/$(echo "$m" | tr -c 'a-zA-Z0-9' _).$set.txt
    $PY -m nmtkit translate -m "$m" --beam 5 --precision fp32 "$@" --input "$D/$set.en" \
      --output "$hyp" 2>/dev/null
    scores=$($PY -m nmtkit score --ref "$D/$set.$T" --hyp "$hyp" --metrics bleu,chrf 2>/dev/null)
    bleu=$(echo "$scores" | sed -n -E 's/^BLEU = ([0-9.]+).*/\1/p')
    chrf=$(echo "$scores" | sed -n -E 's/^chrF2 = ([0-9.]+).*/\1/p')
    printf '%-50s %-9s %7s %7s\n' "$m" "$set" "$bleu" "$chrf"
  done
done
