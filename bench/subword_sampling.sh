#!/usr/bin/env bash
# Subword regularization on Multi30k en->de: the attentional RNN of examples/multi30k/rnn.yaml
# trained twice for the same number of steps on one data folder (joint sentencepiece
# unigram, 8,000 pieces), without and with train.subword_alpha (sentencepiece sampling of
# the training pairs each epoch), then val and test2016 translated with beam 5 in float32
# and scored:
#   bash bench/subword_sampling.sh [STEPS]
# STEPS defaults to 2000, about the recipe's 10 minutes without sampling on the faster
# machine; with alpha 0.1 the sentences have about twice as many pieces, and the sampled
# run's steps take 2-3 times as long on a CPU (fewer, longer sequences a batch).
# Environment: PYTHON (default .venv/bin/python), MULTI30K (../shared/data/multi30k), OUT
# (runs/subword_sampling; the data folder, both model folders, the translations), ALPHA
# (0.1), LINES (train on the first LINES pairs only: a quick check of the script),
# TRAIN_ARGS (overrides for both runs, e.g. "train.precision=fp32").
# Both runs use the recipe's seed, batches of 2,000 tokens and validation every 1,000
# steps (model.pt: the best of those by validation BLEU); only train.max_steps is set in
# place of the recipe's train.max_minutes, so that both take the same number of steps.
set -euo pipefail
STEPS=${1:-2000}
PY=${PYTHON:-.venv/bin/python}
D=${MULTI30K:-../shared/data/multi30k}
OUT=${OUT:-runs/subword_sampling}
ALPHA=${ALPHA:-0.1}
LINES=${LINES:-0}
RECIPE=examples/multi30k/rnn.yaml
stamp() { echo "== $(date -u +%H:%M:%S) $*" >&2; }
for f in train val test2016; do
  for l in en de; do
    [ -f "$D/$f.$l" ] || { echo "subword_sampling.sh: no $D/$f.$l (Multi30k)" >&2; exit 2; }
  done
done
mkdir -p "$OUT"
src=$D/train.en tgt=$D/train.de
if [ "$LINES" -gt 0 ]; then
  head -n "$LINES" "$D/train.en" > "$OUT/train.en"
  head -n "$LINES" "$D/train.de" > "$OUT/train.de"
  src=$OUT/train.en tgt=$OUT/train.de
fi

stamp "preprocess en->de (sentencepiece unigram, joint, 8000) and build the vocabularies"
$PY -m nmtkit preprocess --src "$src" --tgt "$tgt" --valid-src "$D/val.en" --valid-tgt "$D/val.de" \
  --out "$OUT/data" --units spm --spm-model-type unigram --spm-vocab-size 8000 --joint \
  --src-lang en --tgt-lang de --overwrite
$PY -m nmtkit build-vocab "$OUT/data"

declare -A SECONDS_OF
for run in plain sampled; do
  extra=()
  [ "$run" = sampled ] && extra=("train.subword_alpha=$ALPHA")
  stamp "train $run: $STEPS steps ${extra[*]:-}"
  start=$(date +%s)
  # shellcheck disable=SC2086
  if ! $PY -m nmtkit train -c "$RECIPE" -d "$OUT/data" -m "$OUT/$run" --overwrite \
      --no-progress "train.max_steps=$STEPS" train.max_minutes=0 train.check_int8=false \
      "${extra[@]}" ${TRAIN_ARGS:-} > "$OUT/$run.train.log" 2>&1; then
    tail -5 "$OUT/$run.train.log" >&2
    echo "subword_sampling.sh: training $run failed (log: $OUT/$run.train.log)" >&2
    exit 1
  fi
  SECONDS_OF[$run]=$(( $(date +%s) - start ))
  grep -E "^trained|valid step" "$OUT/$run.train.log" >&2 || true
done

stamp "translate val and test2016 (beam 5, float32) and score"
printf '%-8s %-9s %7s %7s %9s\n' run set BLEU chrF train_s
for run in plain sampled; do
  for set in val test2016; do
    hyp=$OUT/$run.$set.beam5.de
    rm -f "$hyp"
    $PY -m nmtkit translate -m "$OUT/$run" --beam 5 --precision fp32 --input "$D/$set.en" \
      --output "$hyp" 2>/dev/null
    scores=$($PY -m nmtkit score --ref "$D/$set.de" --hyp "$hyp" --metrics bleu,chrf 2>/dev/null)
    bleu=$(echo "$scores" | sed -n -E 's/^BLEU = ([0-9.]+).*/\1/p')
    chrf=$(echo "$scores" | sed -n -E 's/^chrF2 = ([0-9.]+).*/\1/p')
    printf '%-8s %-9s %7s %7s %9s\n' "$run" "$set" "${bleu:-?}" "${chrf:-?}" "${SECONDS_OF[$run]}"
  done
done
stamp done
