#!/usr/bin/env bash
# The full test suite: installs what is missing (Deno; on Debian as root also the Docker engine,
# Compose v2 and v1, busybox for the test image, Chromium, Claude Code and the remote test host's
# tools), then runs every test against real git, Docker and a real browser.
#
# Compose comes in two flavours that read, print and fail differently, so the tests run twice:
# every test with Compose v2 (`docker compose`, what most users have), then the test files that need
# Docker again with Compose v1 (`docker-compose`), each chosen through KINFRA_COMPOSE. The last line
# adds both runs up in Deno's own summary format, which .ci/run reads. With CI=true a flavour that
# is missing fails its Docker tests (tests/helpers.ts), it does not skip them.
#
# The tests run the artifact users get, not the source tree: `$KINFRA_BIN` when it is set (a
# compiled binary from `deno task build`), else the bundle built here into .kinfra-test/kinfra/
# (split at its dynamic imports, each part loaded when it runs, as a compiled binary does) — which
# proves the module graph is closed (no import of a file unknown at build time, templates embedded,
# nothing read beside the sources), as `deno compile` needs.
# `KINFRA_BIN=source` runs `deno run main.ts` instead.
# Usage: bash scripts/test.sh [extra deno test args]
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

ensure_deno
ensure_docker && ensure_test_image
ensure_chromium
ensure_claude_code
ensure_remote_host
export NO_COLOR=1
if [ "${KINFRA_BIN:-}" = source ]; then
  unset KINFRA_BIN
elif [ -z "${KINFRA_BIN:-}" ]; then
  $DENO run -A scripts/build.ts --bundle --split --out .kinfra-test >/dev/null || exit 1
  export KINFRA_BIN="$PWD/.kinfra-test/kinfra/kinfra.js"
fi
echo "kinfra under test: ${KINFRA_BIN:-deno run main.ts}"

# Test files that need Docker: they use dockerTest, needsDocker or the sandbox fixtures (tests/helpers.ts,
# tests/sandbox_helpers.ts), or claudeTest with `docker: true`.
mapfile -t docker_files < <(grep -lE '\b(dockerTest|needsDocker)\(|sandbox_helpers\.ts|docker: true' tests/*_test.ts)

passed=0 failed=0 ignored=0 status=0
# run <label> <KINFRA_COMPOSE> <deno test args…>: one Deno run, its counts added to the totals.
run() {
  local label=$1 compose=$2 log summary
  shift 2
  log=$(mktemp)
  echo "=== $label (KINFRA_COMPOSE=\"$compose\") ==="
  KINFRA_COMPOSE="$compose" $DENO test -A --quiet "$@" 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  # Deno ends with e.g. "ok | 41 passed (57 steps) | 0 failed | 2 ignored (12s)".
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)
  rm -f "$log"
  if [ -z "$summary" ]; then
    echo "=== $label: no summary from deno test (counted as 1 failed) ==="
    failed=$((failed + 1)) status=1
    return
  fi
  local p f i
  p=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
  f=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
  i=$(grep -oE '\| [0-9]+ ignored' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
  passed=$((passed + p)) failed=$((failed + f)) ignored=$((ignored + i))
  echo "=== $label: $p passed / $f failed / $i ignored ==="
}

run "all tests, Compose v2" "docker compose" tests/ "$@"
run "Docker tests, Compose v1" "docker-compose" "${docker_files[@]}" "$@"

[ "$failed" -eq 0 ] && [ "$status" -eq 0 ] && verdict=ok || verdict=FAILED
echo "$verdict | $passed passed | $failed failed | $ignored ignored (both Compose flavours)"
exit "$status"
