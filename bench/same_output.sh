#!/usr/bin/env bash
# Translations of one input under every search path whose output must not change when the
# search code changes: greedy and beam 5, eager and compiled, float32; n-best lists with
# their scores, n-gram blocking and seeded sampling (eager only).
#
#   bash bench/same_output.sh MODEL_DIR INPUT OUT_DIR
#
# Run it with the code before and after a change (PYTHON=... or PYTHONPATH=...), then
# `cmp` the two OUT_DIRs file by file. Compiling takes minutes on a 2-core CPU.
set -euo pipefail
model=$1 input=$2 out=$3
py=${PYTHON:-python}
mkdir -p "$out"
for beam in 1 5; do
  for compile in off on; do
    "$py" -m nmtkit translate --model-dir "$model" --beam "$beam" --compile "$compile" \
      --precision fp32 --input "$input" --output "$out/beam$beam.compile-$compile.txt"
  done
done
# The paths only the eager loop takes, and the n-best scores.
for extra in "--beam 5 --n-best 5" "--beam 5 --no-repeat-ngram 2" "--sample --seed 7 --top-p 0.9"; do
  name=$(echo "$extra" | tr -d ' -')
  "$py" -m nmtkit translate --model-dir "$model" $extra --compile off --precision fp32 \
    --input "$input" --output "$out/$name.txt"
done
