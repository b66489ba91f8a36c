#!/usr/bin/env bash
# kinfra's main flow on a throwaway project: init → spec → dirty done (refused) → done → impl with a
# running sandbox → status → the dashboard (a screenshot of `kinfra ui`) → done. Installs what is missing (see setup.sh). Everything lives in a
# temp dir with its own KINFRA_HOME; nothing of yours is touched. KEEP=1 keeps the temp dir.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/setup.sh"
ensure_deno
HAVE_DOCKER=1
{ ensure_docker && ensure_test_image; } || HAVE_DOCKER=0

WORK=$(mktemp -d /tmp/kinfra-demo.XXXXXX)
export KINFRA_HOME="$WORK/home" NO_COLOR=1
kinfra() { $DENO run -A --quiet "$ROOT/main.ts" "$@"; }
step() { printf '\n\033[1m$ kinfra %s\033[0m\n' "$*"; }
cleanup() {
  kinfra worktrees --json >/dev/null 2>&1 && for n in $(kinfra --json worktrees | sed -n 's/.*"name": "\(.*\)".*/\1/p'); do
    kinfra -q done --force "$n" >/dev/null 2>&1 || true
  done
  # The proxy process lingers a few seconds after the last sandbox; a home is removed without it.
  kinfra -q proxy stop >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

# A small project: a web service whose health endpoint is served by busybox httpd.
mkdir -p "$WORK/shop/src" && cd "$WORK/shop"
cat >docker-compose.yml <<'YAML'
# Shop demo stack (kinfra keeps these comments)
services:
  web:
    image: kinfra-test/busybox:latest
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/app/src"]
    ports:
      - "8080:8080"   # the web UI
YAML
echo ok >src/health
git init -q -b main && git add -A && git -c user.name=demo -c user.email=demo@example.invalid commit -qm "shop"

if [ "$HAVE_DOCKER" = 1 ]; then
  step init --yes --health-endpoint /health --mount src/:/app/src --code-target web
  kinfra init --yes --health-endpoint /health --mount src/:/app/src --code-target web
else
  step init --yes --no-sandbox
  kinfra init --yes --no-sandbox
fi
git add -A && git -c user.name=demo -c user.email=demo@example.invalid commit -qm "kinfra config"

step spec checkout
kinfra spec checkout
echo "draft" >"$WORK/shop-spec-checkout/SPEC.md"
step done checkout "   # uncommitted work: refused (exit 3)"
kinfra done checkout || echo "(exit $? — nothing was removed)"
step done checkout --force
kinfra done checkout --force

if [ "$HAVE_DOCKER" = 1 ]; then
  # No image registry here: the shared Jaeger/Prometheus/Grafana are played by a stand-in image,
  # as a stack of the demo's own (name "kinfra-demo", not the default "devops-ai") on ports of its
  # own, so a real stack on this engine is never touched. With real images, leave
  # [observability] out of config.toml.
  mkdir -p "$KINFRA_HOME"
  cat >"$KINFRA_HOME/config.toml" <<TOML
[observability]
name = "kinfra-demo"
jaeger_image = "$STUB_IMAGE"
prometheus_image = "$STUB_IMAGE"
grafana_image = "$STUB_IMAGE"
jaeger_ui_port = 16786
otlp_grpc_port = 14417
otlp_http_port = 14418
prometheus_port = 19190
grafana_port = 13100
TOML
  step impl checkout/M1
  kinfra impl checkout/M1
  step impl search/M1 "   # a second sandbox: next slot, next ports"
  kinfra impl search/M1
  step status checkout-M1
  kinfra status checkout-M1
  step observability status
  kinfra observability status
  step worktrees
  kinfra worktrees
  step ui "   # the live dashboard of every sandbox; a headless Chromium takes a picture of it"
  SHOTS=$(mktemp -d /tmp/kinfra-ui.XXXXXX)
  # exec: $! is then kinfra itself, which a Ctrl-C (SIGINT) stops cleanly.
  { exec $DENO run -A --quiet "$ROOT/main.ts" ui --port 0 >"$SHOTS/ui.out" 2>"$SHOTS/ui.err"; } &
  UI_PID=$!
  for _ in $(seq 1 100); do grep -q token "$SHOTS/ui.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(grep -o 'http://[^ ]*' "$SHOTS/ui.out" || true)
  echo "kinfra ui: ${URL:-did not start: $(cat "$SHOTS/ui.err")}"
  if [ -n "$URL" ] && ensure_chromium; then
    "$(chromium_path)" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,640 \
      --screenshot="$SHOTS/kinfra-ui.png" "$URL" >/dev/null 2>&1 || true
    [ -s "$SHOTS/kinfra-ui.png" ] && echo "screenshot of the dashboard: $SHOTS/kinfra-ui.png"
  fi
  kill -INT "$UI_PID" 2>/dev/null && wait "$UI_PID" 2>/dev/null || true
  sed 's/^/  /' "$SHOTS/ui.err"
  step done checkout-M1
  kinfra done checkout-M1
  step done search-M1
  kinfra done search-M1
  kinfra -q observability down >/dev/null
else
  step worktrees --json
  kinfra worktrees --json
fi
printf '\nDemo finished. (Work dir: %s%s)\n' "$WORK" "$([ "${KEEP:-0}" = 1 ] && echo ", kept" || echo ", removed")"
