# shellcheck shell=bash
# Sourced by test.sh and demo.sh: makes sure Deno, a Docker engine with Compose, and the local test
# image are present, installing what is missing and saying so. Sets $DENO.
DENO_VERSION=2.9.6
TEST_IMAGE=kinfra-test/busybox:latest
# Stands in for Jaeger, Prometheus and Grafana (no image registry is reachable here): busybox httpd
# answering on their ports (16686, 4317, 4318, 9090, 3000, 8888), whatever arguments it is given.
STUB_IMAGE=kinfra-test/otel-stub:latest

say() { printf '\033[36m[setup]\033[0m %s\n' "$*" >&2; }

ensure_deno() {
  if command -v deno >/dev/null 2>&1 && deno --version 2>/dev/null | grep -q "deno $DENO_VERSION"; then
    DENO=deno
  elif command -v npm >/dev/null 2>&1 && say "installing Deno $DENO_VERSION from npm (npm install -g deno@$DENO_VERSION)" \
    && npm install -g "deno@$DENO_VERSION" >/dev/null 2>&1 && command -v deno >/dev/null 2>&1; then
    DENO=deno
  else
    say "using Deno $DENO_VERSION through npx"
    DENO="npx --yes deno@$DENO_VERSION"
  fi
}

docker_up() { docker info >/dev/null 2>&1; }

# The suite runs its Docker tests with both Compose flavours: v1 is a `docker-compose` that says 1.x
# (a standalone `docker-compose` may well be v2), v2 the `docker compose` plugin.
compose_v1_present() { docker-compose version --short 2>/dev/null | grep -q '^1\.'; }
compose_v2_present() { docker compose version >/dev/null 2>&1; }

static_busybox() { [ -x /bin/busybox ] && ldd /bin/busybox 2>&1 | grep -q "not a dynamic"; }

ensure_docker() {
  docker_up && compose_v1_present && compose_v2_present && command -v gcc >/dev/null 2>&1 &&
    command -v fish >/dev/null 2>&1 && command -v zsh >/dev/null 2>&1 &&
    { static_busybox || docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; } && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    compose_v1_present || missing+=(docker-compose) # 1.29 on bookworm
    static_busybox || missing+=(busybox-static)
    command -v fish >/dev/null 2>&1 || missing+=(fish) # the completion tests run fish and zsh for real
    command -v zsh >/dev/null 2>&1 || missing+=(zsh)
    command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev) # the UDP checkout test builds a static echo server
    if [ ${#missing[@]} -gt 0 ]; then
      say "installing Debian packages: ${missing[*]} (apt-get)"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if ! docker_up; then
      say "starting the Docker engine (dockerd, log in /tmp/kinfra-dockerd.log)"
      (dockerd >/tmp/kinfra-dockerd.log 2>&1 &)
      for _ in $(seq 1 60); do docker_up && break; sleep 0.5; done
    fi
  fi
  docker_up || { say "no Docker engine: tests that need Docker are skipped (or fail with CI=true)"; return 1; }
  compose_v1_present || say "no Compose v1 (docker-compose 1.x): its test run is skipped (or fails with CI=true)"
  # Without v2 its test run fails (CI) or skips, but the engine is there: the test image is still built.
  ensure_compose_v2 || true
}

# Compose v2 beside v1: the suite runs the compose tests on both. Debian's own docker-compose 2.x
# (trixie) is one Go binary needing only libc; it is downloaded through a private apt source list
# (the system's lists are not touched) and its cli-plugin copied where the docker CLI finds it.
COMPOSE_PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
ensure_compose_v2() {
  compose_v2_present && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || { say "no Compose v2 (docker compose)"; return 1; }
  say "installing Compose v2 into $COMPOSE_PLUGIN_DIR (Debian trixie's docker-compose, apt-get download)"
  local d opts
  d=$(mktemp -d)
  mkdir -p "$d/etc" "$d/lists/partial" "$d/cache"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$d/etc/trixie.sources"
  opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$d/etc" -o "Dir::State::Lists=$d/lists"
    -o "Dir::Cache=$d/cache" -o Dir::State::status=/dev/null)
  if (cd "$d" && apt-get "${opts[@]}" update -qq && apt-get "${opts[@]}" download docker-compose) >/dev/null 2>&1 \
    && dpkg-deb -x "$d"/docker-compose_*.deb "$d/x" && mkdir -p "$COMPOSE_PLUGIN_DIR" \
    && cp "$d/x/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_PLUGIN_DIR/"; then
    rm -rf "$d"
  else
    rm -rf "$d"
    say "could not install Compose v2"
    return 1
  fi
  docker compose version >/dev/null 2>&1
}

# Headless Chromium, for the dashboard's browser tests and the demo's screenshot (Debian's package).
chromium_path() { command -v chromium || command -v chromium-browser || command -v google-chrome; }
ensure_chromium() {
  chromium_path >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Chromium (apt-get install chromium) for the dashboard tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1
  fi
  chromium_path >/dev/null || { say "no Chromium: the dashboard's browser tests are skipped (or fail with CI=true)"; return 1; }
}

# A tiny image from the static busybox: `httpd` answers health checks, `sh` runs everything else.
# Both test images come from the same root filesystem.
ensure_test_image() {
  docker image inspect "$TEST_IMAGE" >/dev/null 2>&1 && docker image inspect "$STUB_IMAGE" >/dev/null 2>&1 && return 0
  [ -x /bin/busybox ] || { say "no /bin/busybox to build $TEST_IMAGE from"; return 1; }
  say "building $TEST_IMAGE and $STUB_IMAGE from /bin/busybox (docker import; no registry needed)"
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/www" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
  echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
  echo "stub" >"$root/www/index.html"
  cat >"$root/stub.sh" <<'STUB'
trap 'exit 0' TERM INT
for port in 16686 4317 4318 9090 3000 8888; do httpd -p "$port" -h /www; done
while :; do sleep 1; done
STUB
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$TEST_IMAGE" >/dev/null
  tar -C "$root" -c . | docker import -c 'ENTRYPOINT ["/bin/sh", "/stub.sh"]' -c 'ENV PATH=/bin' - "$STUB_IMAGE" >/dev/null
  rm -rf "$root"
}

# The real Claude Code, which the agent-hook tests drive (2.1.197 runs on Node 20), installed from
# npm into a fixed prefix the tests look in, and tmux, which they run its interactive UI under.
CLAUDE_CODE_VERSION=2.1.197
CLAUDE_CODE_PREFIX=/opt/kinfra-test/claude
ensure_claude_code() {
  if ! command -v tmux >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing tmux (apt-get install tmux) for the Claude Code tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux; } >/dev/null 2>&1
  fi
  if ! "$CLAUDE_CODE_PREFIX/node_modules/.bin/claude" --version 2>/dev/null | grep -q "^$CLAUDE_CODE_VERSION "; then
    say "installing Claude Code $CLAUDE_CODE_VERSION into $CLAUDE_CODE_PREFIX (npm install)"
    mkdir -p "$CLAUDE_CODE_PREFIX" && npm install --prefix "$CLAUDE_CODE_PREFIX" --no-fund --no-audit \
      "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >/dev/null 2>&1
  fi
  command -v tmux >/dev/null 2>&1 && "$CLAUDE_CODE_PREFIX/node_modules/.bin/claude" --version >/dev/null 2>&1 \
    || { say "no Claude Code or tmux: the Claude Code tests are skipped (or fail with CI=true)"; return 1; }
}

# What the remote-host tests build their second engine with (scripts/remote_host.sh): iproute2,
# openssh-server (installed without starting an sshd here), rsync, and paramiko for Compose v1's ssh://.
ensure_remote_host() {
  [ "$(id -u)" = 0 ] || { say "not root: the remote-host tests are skipped (or fail with CI=true)"; return 1; }
  # ensure installs what it needs; sweep takes down hosts a killed earlier run left.
  { bash "$(dirname "${BASH_SOURCE[0]}")/remote_host.sh" ensure && bash "$(dirname "${BASH_SOURCE[0]}")/remote_host.sh" sweep; } || { say "no remote test host: its tests are skipped (or fail with CI=true)"; return 1; }
}
