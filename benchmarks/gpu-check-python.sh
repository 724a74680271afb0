#!/usr/bin/env bash
# The torch engine's interpreter rule (src/clip/engine.ts choosePython), for machines without node:
# TIME_MERGE_PYTHON, else the first python3 on PATH that imports torch, else the system python3.
# Sourced by gpu-check.sh; run alone it prints the choice and where it came from, tab-separated.
pick_python() {
  if [ -n "${TIME_MERGE_PYTHON:-}" ]; then
    printf '%s\t%s\n' "$TIME_MERGE_PYTHON" TIME_MERGE_PYTHON
    return
  fi
  local dir seen="" real
  local IFS=:
  for dir in $PATH; do
    [ -n "$dir" ] || dir=.
    [ -f "$dir/python3" ] && [ -x "$dir/python3" ] || continue
    real=$(realpath "$dir/python3" 2>/dev/null || echo "$dir/python3")
    case ":$seen:" in *":$real:"*) continue ;; esac
    seen="$seen:$real"
    if "$dir/python3" -c 'import torch, numpy, PIL' >/dev/null 2>&1; then
      printf '%s\t%s\n' "$dir/python3" PATH
      return
    fi
  done
  if [ -x /usr/bin/python3 ]; then printf '%s\t%s\n' /usr/bin/python3 system; else printf '%s\t%s\n' python3 system; fi
}
if [ "${BASH_SOURCE[0]}" = "$0" ]; then pick_python; fi
