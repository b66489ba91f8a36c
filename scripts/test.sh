#!/usr/bin/env bash
# The full test suite: installs what is missing (Deno; on Debian as root also the Docker engine,
# Compose, busybox for the test image, Chromium and Claude Code), then runs every test against real git, Docker
# and a real browser.
#
# The tests run the artifact users get, not the source tree: `$KINFRA_BIN` when it is set (a
# compiled binary from `deno task build`), else the single-file bundle built here into
# .kinfra-test/kinfra.js — which proves the module graph is closed (no import of a file unknown
# at build time, templates embedded, nothing read beside the sources), as `deno compile` needs.
# `KINFRA_BIN=source` runs `deno run main.ts` instead.
# Usage: bash scripts/test.sh [extra deno test args]
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

ensure_deno
ensure_docker && ensure_test_image
ensure_chromium
ensure_claude_code
export NO_COLOR=1
if [ "${KINFRA_BIN:-}" = source ]; then
  unset KINFRA_BIN
elif [ -z "${KINFRA_BIN:-}" ]; then
  $DENO run -A scripts/build.ts --bundle --out .kinfra-test >/dev/null || exit 1
  export KINFRA_BIN="$PWD/.kinfra-test/kinfra.js"
fi
echo "kinfra under test: ${KINFRA_BIN:-deno run main.ts}"
exec $DENO test -A --quiet tests/ "$@"
