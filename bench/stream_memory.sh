#!/usr/bin/env bash
# Peak memory of `nmtkit translate` on a stream of N lines, for growing N: memory that
# stays flat shows that input is read, translated and written chunk by chunk.
#
#   bash bench/stream_memory.sh MODEL_DIR [N ...]     (default N: 10000 100000 1000000)
set -euo pipefail
model=$1; shift
sizes=${*:-10000 100000 1000000}
line="A man in an orange hat starring at something."
echo "| lines in | lines out | peak RSS (MiB) | seconds |"
echo "|---|---|---|---|"
for n in $sizes; do
  out=$( { /usr/bin/time -f "%M %e" bash -c \
    "yes '$line' | head -n $n | nmtkit translate -m '$model' --beam 1 | wc -l" ; } 2>&1 )
  read -r lines rss secs <<<"$(echo $out | tr '\n' ' ')"
  echo "| $n | $lines | $((rss / 1024)) | $secs |"
done
