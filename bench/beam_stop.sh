#!/usr/bin/env bash
# BLEU and wall time of each --beam-stop rule on Multi30k val and test2016, for each model
# given: bash bench/beam_stop.sh MODEL_DIR... (beam 5, the default length penalty).
# Reported in docs/benchmarks.md, "When a line's beam search ends".
set -euo pipefail
PY=${PYTHON:-python}
D=${MULTI30K:-../shared/data/multi30k}
OUT=${OUT:-$(mktemp -d)}
printf '%-22s %-10s %-6s %8s %8s\n' model set stop BLEU seconds
for model in "$@"; do
  for set in val test2016; do
    for stop in all bound best; do
      hyp=$OUT/$(basename "$model").$set.$stop.txt
      rm -f "$hyp"; start=$(date +%s.%N)
      $PY -m nmtkit translate -m "$model" --beam 5 --beam-stop "$stop" --precision fp32 \
        --input "$D/$set.en" --output "$hyp" 2>/dev/null
      end=$(date +%s.%N)
      bleu=$($PY -m nmtkit score --ref "$D/$set.de" --hyp "$hyp" --metrics bleu 2>/dev/null \
             | grep -o -E '[0-9]+\.[0-9]+' | head -1)
      printf '%-22s %-10s %-6s %8s %8.2f\n' "$(basename "$model")" "$set" "$stop" "$bleu" \
        "$(echo "$end - $start" | bc)"
    done
  done
done
