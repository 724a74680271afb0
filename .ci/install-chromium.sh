#!/usr/bin/env bash
# Installs Debian's chromium for the report's headless-browser test, when it is missing and we may.
# Never fails the build: the test itself reports a missing browser clearly.
set -uo pipefail

for exe in chromium chromium-browser; do
  if command -v "$exe" >/dev/null 2>&1; then
    echo "install-chromium: $(command -v "$exe") already present"
    exit 0
  fi
done

if [ "$(id -u)" != "0" ]; then
  echo "install-chromium: chromium missing and not root; skipping (the browser test will fail under TIME_MERGE_REQUIRE_BROWSER=1)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: chromium missing and no apt-get; skipping"
  exit 0
fi

limit="${CHROMIUM_INSTALL_TIMEOUT:-600}"
echo "install-chromium: installing Debian chromium with apt-get (timeout ${limit}s)"
export DEBIAN_FRONTEND=noninteractive
if timeout "$limit" apt-get update -qq >/dev/null \
  && timeout "$limit" apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
  echo "install-chromium: installed $(command -v chromium) ($(chromium --version 2>/dev/null || echo 'version unknown'))"
else
  echo "install-chromium: apt-get failed or timed out; the browser test will report it"
fi
exit 0
