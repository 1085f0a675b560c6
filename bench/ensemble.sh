#!/usr/bin/env bash
# Each model alone and their ensembles on Multi30k val and test2016: BLEU and the wall time
# of each command (load included), beam 5, float32, one after another:
#   bash bench/ensemble.sh MODEL_A MODEL_B [MODEL_C]   (models of one data folder)
# Reported in docs/benchmarks.md, "Ensembles".
set -euo pipefail
PY=${PYTHON:-python}
D=${MULTI30K:-../shared/data/multi30k}
OUT=${OUT:-$(mktemp -d)}
runs=()
for m in "$@"; do runs+=("-m $m"); done
runs+=("-m $1 -m $2")
[ $# -ge 3 ] && runs+=("-m $1 -m $2 -m $3")
printf '%-60s %-9s %7s %8s\n' models set BLEU seconds
for set in val test2016; do
  for r in "${runs[@]}"; do
    hyp=$OUT/$(echo "$r" | tr -c 'a-zA-Z0-9' _).$set.txt
    rm -f "$hyp"; start=$(date +%s.%N)
    # shellcheck disable=SC2086
    $PY -m nmtkit translate $r --beam 5 --precision fp32 --input "$D/$set.en" --output "$hyp" 2>/dev/null
    end=$(date +%s.%N)
    bleu=$($PY -m nmtkit score --ref "$D/$set.de" --hyp "$hyp" --metrics bleu 2>/dev/null \
           | grep -o -E '[0-9]+\.[0-9]+' | head -1)
    printf '%-60s %-9s %7s %8.2f\n' "${r//-m /}" "$set" "$bleu" "$(echo "$end - $start" | bc)"
  done
done
