#!/usr/bin/env bash
# Multi30k en->de with the attentional RNN (examples/multi30k/rnn.yaml), on CPU.
#
#   bash examples/multi30k/run.sh [DATA_DIR] [WORK_DIR]
#
# DATA_DIR holds train/val/test2016 .en/.de (default: ../shared/data/multi30k beside the
# repository); WORK_DIR gets the data folder, the model folder and the translations
# (default: runs/multi30k). Extra training overrides can be given in TRAIN_ARGS, e.g.
# TRAIN_ARGS="train.max_minutes=30".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${1:-$repo/../shared/data/multi30k}
work=${2:-$repo/runs/multi30k}
if [ ! -f "$data/train.en" ]; then
  echo "run.sh: no Multi30k data in $data (expected train.en, train.de, val.*, test2016.*)" >&2
  exit 2
fi
mkdir -p "$work"
set -x
nmtkit preprocess --src "$data/train.en" --tgt "$data/train.de" \
  --valid-src "$data/val.en" --valid-tgt "$data/val.de" \
  --out "$work/data" --spm-vocab-size 8000 --src-lang en --tgt-lang de --overwrite
nmtkit build-vocab "$work/data"
nmtkit train --config "$here/rnn.yaml" --data "$work/data" --model-dir "$work/model" --overwrite \
  ${TRAIN_ARGS:-}
for beam in 1 5; do
  /usr/bin/time -f "beam $beam: %e s wall for $(wc -l < "$data/test2016.en") lines" \
    nmtkit translate --model-dir "$work/model" --beam "$beam" \
    < "$data/test2016.en" > "$work/test2016.beam$beam.de"
  nmtkit score --ref "$data/test2016.de" < "$work/test2016.beam$beam.de"
done
