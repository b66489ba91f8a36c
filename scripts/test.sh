#!/usr/bin/env bash
# The full test suite: installs what is missing (Deno; on Debian as root also the Docker engine,
# Compose and busybox for the test image), then runs every test against real git and Docker.
# Usage: bash scripts/test.sh [extra deno test args]
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

ensure_deno
ensure_docker && ensure_test_image
export NO_COLOR=1
exec $DENO test -A --quiet tests/ "$@"
