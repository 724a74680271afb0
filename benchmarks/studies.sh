#!/usr/bin/env bash
# npm run studies [-- NAME ...]
#
# Reruns every built-in study (or the named ones) afresh from the bundled CLI, at low priority, into
# results/<name>/, as results/README.md lists them: `default` through `time-merge start`, the others
# through `time-merge sim NAME` into results/_scratch/NAME, moved over results/NAME only when complete (so
# a failed run leaves the previous results whole, and no earlier run is ever kept as done).
set -euo pipefail
cd "$(dirname "$0")/.."
all=(default offline-vs-continual time-aware-offline best-in-time technique-variants merge-settings scaling-model scaling-compute scaling-horizon regime-map continual-merging)
if [ "$#" -gt 0 ]; then studies=("$@"); else studies=("${all[@]}"); fi
npm run -s build:dist
for s in "${studies[@]}"; do
  start=$(date +%s)
  if [ "$s" = default ]; then
    nice -n "${NICE:-10}" node bin/time-merge.js start
  else
    tmp="results/_scratch/$s"
    rm -rf "$tmp"
    nice -n "${NICE:-10}" node bin/time-merge.js sim "$s" --out "$tmp"
    rm -rf "results/$s"
    mv "$tmp" "results/$s"
  fi
  echo "studies: $s took $(($(date +%s) - start)) s"
done
