#!/usr/bin/env bash
# nmtkit serve fuzzed from its own OpenAPI schema by schemathesis (pip install schemathesis):
# at least N generated requests per operation (default 1000), on loopback only, checking
# that no response is a 500, that every response has a status and a body the schema
# documents, and that the server is still healthy afterwards.
#
#   bash bench/serve_fuzz.sh MODEL_DIR [N]
set -euo pipefail
model=$1 n=${2:-1000}
py=${PYTHON:-python}
st=${SCHEMATHESIS:-schemathesis}
log=$(mktemp)
"$py" -m nmtkit serve -m "$model" --host 127.0.0.1 --port 0 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; rm -f "$log"' EXIT
url=
for _ in $(seq 1 600); do
  url=$(sed -n 's/.*serving on \(http[^ ]*\).*/\1/p' "$log")
  [[ -n $url ]] && curl -sf "$url/health" >/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
echo "server: $url (pid $pid)"
"$st" run "$url/openapi.json" --checks not_a_server_error,status_code_conformance,\
content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "$n" --seed 1 --phases examples,coverage,fuzzing --workers 1 \
  --request-timeout 120 --no-shrink
status=$?
curl -sf "$url/health" && echo && echo "healthy after the run"
curl -s "$url/metrics" | grep -E '^nmtkit_(requests_total|errors_total)' | sort
kill -TERM $pid; wait $pid; echo "server exit status $?"
exit $status
