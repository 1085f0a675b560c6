#!/usr/bin/env bash
# nmtkit beside OpenNMT-py and CTranslate2 in one run, on this machine, one after another
# with nothing else running (docs/benchmarks.md, "int8 by default: beside OpenNMT-py and
# CTranslate2"):
#   bash bench/side_by_side.sh RNN_MODEL_DIR TRANSFORMER_MODEL_DIR NMTKIT_DATA_DIR [ONMT_TF_STEPS]
# RNN_MODEL_DIR: an nmtkit Multi30k RNN (examples/multi30k/rnn.yaml); TRANSFORMER_MODEL_DIR:
# an nmtkit transformer-small; both checked with nmtkit check-int8 first, so that the
# defaults (--precision auto) are what a user gets. Needs ../shared/peers/setup_venvs.sh.
set -euo pipefail
RNN=${1:?rnn model}; TF=${2:?transformer model}; DATA=${3:?nmtkit data folder}
ONMT_TF_STEPS=${4:-200}
PY=${PYTHON:-.venv/bin/python}
PEERS=../shared/peers
M30K=../shared/data/multi30k
OUT=${OUT:-runs/side_by_side}
mkdir -p "$OUT"
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }
test2016=(--input "$M30K/test2016.en" --ref "$M30K/test2016.de")

if [ "${ONMT_RNN_TRAINED:-0}" = 1 ]; then  # its 628-step model is there: evaluate it again
  stamp "OpenNMT-py RNN evaluated"
  EVAL_ONLY=1 bash "$PEERS/run.sh" onmt rnn | tail -3
else
  stamp "OpenNMT-py RNN, 628 steps (the same model every run), then its evaluation"
  bash "$PEERS/run.sh" onmt rnn 0 628 | tail -3
fi
cp runs/peers/runs/onmt_rnn/eval.json "$OUT/onmt_rnn_eval_before.json"
stamp "nmtkit RNN beside it (defaults, fp32, int8)"
$PY bench/peers_side.py --model-dir "$RNN" "${test2016[@]}" \
  --peer "$OUT/onmt_rnn_eval_before.json" --repeats 2
stamp "OpenNMT-py RNN evaluated again"
EVAL_ONLY=1 bash "$PEERS/run.sh" onmt rnn | tail -3
cp runs/peers/runs/onmt_rnn/eval.json "$OUT/onmt_rnn_eval_after.json"
$PY -c "import json,sys; [print(f, {k: json.load(open(f))[k]['sents_per_s'] for k in ('beam1','beam5') if k in json.load(open(f))}) for f in sys.argv[1:]]" \
  "$OUT/onmt_rnn_eval_before.json" "$OUT/onmt_rnn_eval_after.json" || true
stamp "nmtkit transformer beside CTranslate2 on its export"
$PY bench/ctranslate2_side.py --model-dir "$TF" "${test2016[@]}" --work "$OUT/ct2" --repeats 2
stamp "how close decoding comes to the machine"
$PY bench/machine_limit.py --model-dir "$RNN" --input "$M30K/test2016.en" --beams 5 \
  --precisions fp32,int8 --repeats 2
$PY bench/machine_limit.py --model-dir "$TF" --input "$M30K/test2016.en" --beams 5 \
  --precisions fp32,int8 --repeats 2
stamp "training throughput: OpenNMT-py RNN (from its 628-step run above) and transformer"
bash "$PEERS/run.sh" onmt transformer 0 "$ONMT_TF_STEPS" | tail -3
for arch in rnn transformer; do
  $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], {k: v for k, v in d.items() if 'tok' in k or 'step' in k})" \
    "runs/peers/runs/onmt_$arch/train.json" "$arch"
done
stamp "training throughput: nmtkit, the same recipes"
$PY bench/train_throughput.py --data "$DATA" --config examples/multi30k/rnn.yaml --steps 40 --warmup 5
$PY bench/train_throughput.py --data "$DATA" --config "$TF/config.yaml" --steps 40 --warmup 5
stamp done
