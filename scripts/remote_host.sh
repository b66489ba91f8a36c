#!/usr/bin/env bash
# A second Docker engine that is really elsewhere, for the remote-host tests and the demo:
#   remote_host.sh up <state dir>     builds it, prints KEY=VALUE lines (endpoint, ssh wrapper dir…)
#   remote_host.sh down <state dir>   removes every trace of it (idempotent)
#   remote_host.sh block|unblock <state dir>   makes it stop answering (packets dropped), and back
#   remote_host.sh sweep              takes down hosts whose owner (the run that built them) is gone
#   remote_host.sh ensure             installs what it needs (iproute2, openssh-server, rsync, paramiko, socat)
# It lives in a network namespace of its own with a private /30 (10.251.<n>.0/30: this machine is .1,
# the namespace .2; no route anywhere else), runs its own dockerd (own data root, exec root, pidfile,
# socket, config dir, containerd) and is reachable only through an sshd in that namespace that
# accepts one key made for the run — and, for tcp:// hosts, on that address only: plain tcp on
# 2375 (socat to the engine's socket) and TLS on 2376 (dockerd --tlsverify, a CA, server and client
# certificates made for the run by openssl, plus a client certificate of another CA that it must
# refuse). The docker CLI, compose and rsync reach it through a wrapper
# `ssh` (ssh -F <config>) put first on PATH: OpenSSH ignores $HOME, so ~/.ssh is never used.
# Pitfalls handled: `ip netns exec` remounts /sys (dockerd then dies with "Devices cgroup isn't
# mounted"), so the namespace is entered with nsenter --net plus a private mount namespace
# (unshare -m) whose /run, /tmp, /home, /var/lib/docker, /etc/docker and /etc/passwd are its own.
set -euo pipefail

IMAGES=(kinfra-test/busybox:latest kinfra-test/otel-stub:latest)
STATE_ROOT=/var/lib/kinfra-remote

say() { printf '\033[36m[remote-host]\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

ensure() {
  local missing=()
  command -v ip >/dev/null || missing+=(iproute2)
  command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v rsync >/dev/null || missing+=(rsync)
  /usr/bin/python3 -c 'import paramiko' 2>/dev/null || missing+=(python3-paramiko) # docker-compose v1 and ssh://
  command -v socat >/dev/null || missing+=(socat) # the plain tcp:// listener
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || die "missing: ${missing[*]} (install them, as root)"
  say "installing Debian packages: ${missing[*]} (apt-get; no service is started)"
  # Installing openssh-server must not start an sshd on this machine: a policy-rc.d that says 101.
  local policy=/usr/sbin/policy-rc.d placed=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && placed=1
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null 2>&1 || true
  [ -n "$placed" ] && rm -f "$policy"
  command -v ip >/dev/null && [ -x /usr/sbin/sshd ] && command -v rsync >/dev/null && command -v socat >/dev/null ||
    die "could not install ${missing[*]}"
}

# Claims the first free /30 of 10.251.0.0/16 (an id whose namespace and address are both unused).
# Several runs may build hosts at once (two helpers' tests, two CI jobs): the claim is the atomic
# `mkdir` of its state dir, which only one of them can make, with the owner written at once.
claim_id() {
  local n
  for n in $(seq 1 250); do
    [ -e "/run/netns/krt$n" ] && continue
    ip -br addr | grep -q "10\.251\.$n\." && continue
    mkdir -p "$STATE_ROOT" # (another run's `down` may remove the empty root meanwhile)
    mkdir "$STATE_ROOT/krt$n" 2>/dev/null || continue
    echo "${REMOTE_HOST_OWNER:-$PPID}" >"$STATE_ROOT/krt$n/owner"
    echo "$n"
    return 0
  done
  return 1
}

# Runs inside the namespace's own mount namespace: private mounts, then dockerd and sshd as daemons.
inner() {
  local s=$1 addr=$2
  mount --make-rprivate /
  mount --bind "$s/run" /run
  mount --bind "$s/docker" /var/lib/docker 2>/dev/null || { mkdir -p /var/lib/docker && mount --bind "$s/docker" /var/lib/docker; }
  mkdir -p /etc/docker && mount --bind "$s/etc-docker" /etc/docker
  mount --bind "$s/passwd" /etc/passwd
  mount --bind "$s/home" /home
  mount -t tmpfs -o size=64m tmpfs /tmp # the machine's /tmp (worktrees) does not exist over there
  ip link set lo up
  mkdir -p /run/sshd /run/docker
  # tcp:// on the namespace's address only: TLS by dockerd itself (2376), plain through socat (2375).
  dockerd --data-root /var/lib/docker --exec-root /run/docker --pidfile /run/docker.pid \
    -H unix:///run/docker.sock --config-file /etc/docker/daemon.json \
    -H "tcp://$addr:2376" --tlsverify --tlscacert "$s/tls/ca.pem" --tlscert "$s/tls/server.pem" --tlskey "$s/tls/server-key.pem" \
    >"$s/dockerd.log" 2>&1 </dev/null &
  socat "TCP-LISTEN:2375,bind=$addr,reuseaddr,fork" UNIX-CONNECT:/run/docker.sock </dev/null >/dev/null 2>&1 &
  echo $! >/run/socat.pid
  /usr/sbin/sshd -f "$s/sshd_config" -E "$s/sshd.log"
  for _ in $(seq 1 100); do [ -S /run/docker.sock ] && docker -H unix:///run/docker.sock version >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "the namespace's dockerd did not start (log: $s/dockerd.log)"
}

# A CA, the engine's certificate (for its address), a client certificate, and one of another CA.
make_certs() {
  local st=$1 addr=$2 d=$1/tls c=$1/client
  mkdir -p "$d" "$c/tls" "$c/tls-rogue"
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${key[@]}" -keyout "$d/ca-key.pem" -out "$d/ca.pem" -days 2 -subj /CN=kinfra-test-ca 2>/dev/null
  openssl req -x509 "${key[@]}" -keyout "$d/rogue-ca-key.pem" -out "$d/rogue-ca.pem" -days 2 -subj /CN=rogue-ca 2>/dev/null
  sign() { # name subject extensions ca
    openssl req -new "${key[@]}" -keyout "$d/$1-key.pem" -out "$d/$1.csr" -subj "/CN=$2" 2>/dev/null
    printf '%s\n' "$3" >"$d/$1.ext"
    openssl x509 -req -in "$d/$1.csr" -CA "$d/$4.pem" -CAkey "$d/$4-key.pem" -CAcreateserial -days 2 \
      -extfile "$d/$1.ext" -out "$d/$1.pem" 2>/dev/null
  }
  sign server "$addr" "subjectAltName=IP:$addr
extendedKeyUsage=serverAuth" ca
  sign client kinfra-client "extendedKeyUsage=clientAuth" ca
  sign rogue kinfra-rogue "extendedKeyUsage=clientAuth" rogue-ca
  cp "$d/ca.pem" "$c/tls/ca.pem" && cp "$d/client.pem" "$c/tls/cert.pem" && cp "$d/client-key.pem" "$c/tls/key.pem"
  cp "$d/ca.pem" "$c/tls-rogue/ca.pem" && cp "$d/rogue.pem" "$c/tls-rogue/cert.pem" && cp "$d/rogue-key.pem" "$c/tls-rogue/key.pem"
}

up() {
  local s=$1
  [ "$(id -u)" = 0 ] || die "needs root (network namespace, veth, a second dockerd)"
  ensure
  sweep
  local n ns addr hostaddr
  n=$(claim_id) || die "no free 10.251.<n>.0/30"
  ns=krt$n addr=10.251.$n.2 hostaddr=10.251.$n.1
  mkdir -p "$s"
  # The engine's state lives in $STATE_ROOT (the namespace hides /tmp); $s only points there.
  local st=$STATE_ROOT/$ns
  mkdir -p "$st"/{run,docker,etc-docker,home/kinfra,client,bin}
  echo "$st" >"$s/state"
  echo "$ns" >"$s/netns"
  echo "10.251.$n.0/30" >"$st/subnet"
  # Who asked for it (the test run, written by claim_id): `sweep` takes down hosts whose owner died.
  echo '{}' >"$st/etc-docker/daemon.json"
  # uid 0 inside (the engine's socket is root's); the account exists only in that mount namespace.
  { cat /etc/passwd; echo "kinfra:x:0:0:kinfra remote test:/home/kinfra:/bin/bash"; } >"$st/passwd"
  ssh-keygen -q -t ed25519 -N '' -C kinfra-remote-host -f "$st/host_key"
  ssh-keygen -q -t ed25519 -N '' -C kinfra-remote-client -f "$st/client/id_ed25519"
  cp "$st/client/id_ed25519.pub" "$st/authorized_keys"
  echo "$addr $(cut -d' ' -f1,2 "$st/host_key.pub")" >"$st/client/known_hosts"
  cat >"$st/sshd_config" <<EOF
ListenAddress $addr
Port 22
HostKey $st/host_key
AuthorizedKeysFile $st/authorized_keys
PidFile /run/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
AllowTcpForwarding yes
MaxStartups 200
MaxSessions 200
Subsystem sftp internal-sftp
EOF
  cat >"$st/client/ssh_config" <<EOF
Host $addr $ns
  HostName $addr
  User kinfra
  IdentityFile $st/client/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $st/client/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 3
  ServerAliveInterval 1
  ServerAliveCountMax 3
  LogLevel ERROR
EOF
  printf '#!/bin/sh\n# ssh with the remote test host'"'"'s config (OpenSSH ignores $HOME, so ~/.ssh is never read)\nexec /usr/bin/ssh -F %s "$@"\n' \
    "$st/client/ssh_config" >"$st/bin/ssh"
  chmod +x "$st/bin/ssh"

  ip netns add "$ns"
  ip link add "${ns}h" type veth peer name "${ns}n"
  ip link set "${ns}n" netns "$ns"
  ip addr add "$hostaddr/30" dev "${ns}h"
  ip link set "${ns}h" up
  # Should the veth ever go down, its /30 must not fall through to the default route.
  ip route add unreachable "10.251.$n.0/30" metric 4000
  nsenter --net="/run/netns/$ns" ip addr add "$addr/30" dev "${ns}n"
  nsenter --net="/run/netns/$ns" ip link set "${ns}n" up
  make_certs "$st" "$addr"
  nsenter --net="/run/netns/$ns" unshare -m --propagation private bash "$0" inner "$st" "$addr"
  for _ in $(seq 1 50); do
    PATH="$st/bin:$PATH" ssh "$addr" true 2>/dev/null && break
    sleep 0.1
  done
  PATH="$st/bin:$PATH" docker -H "ssh://kinfra@$addr" info >/dev/null || die "docker -H ssh://kinfra@$addr info failed"
  local img
  for img in "${IMAGES[@]}"; do
    docker image inspect "$img" >/dev/null 2>&1 || continue
    docker save "$img" | PATH="$st/bin:$PATH" ssh "$addr" docker load -q >/dev/null
  done
  cat <<EOF
REMOTE_NETNS=$ns
REMOTE_ADDR=$addr
REMOTE_ENDPOINT=ssh://kinfra@$addr
REMOTE_SSH_BIN=$st/bin
REMOTE_STATE=$st
REMOTE_TCP_ENDPOINT=tcp://$addr:2375
REMOTE_TLS_ENDPOINT=tcp://$addr:2376
REMOTE_TLS_CERTS=$st/client/tls
REMOTE_TLS_ROGUE_CERTS=$st/client/tls-rogue
EOF
}

down() {
  local s=$1
  [ -f "$s/state" ] || return 0
  teardown "$(cat "$s/state")" "$(cat "$s/netns")"
  rm -f "$s/state" "$s/netns"
  rmdir "$STATE_ROOT" 2>/dev/null || true
}

# Hosts whose test run died without `down` (a killed `deno test`): their owner pid is gone.
sweep() {
  local st owner
  for st in "$STATE_ROOT"/krt*; do
    [ -d "$st" ] || continue
    owner=$(cat "$st/owner" 2>/dev/null || echo "")
    [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
    # One being built right now has no owner yet.
    [ -z "$owner" ] && [ $(($(date +%s) - $(stat -c %Y "$st"))) -lt 60 ] && continue
    say "removing $(basename "$st"), left by a run that ended without taking it down"
    teardown "$st" "$(basename "$st")"
  done
  rmdir "$STATE_ROOT" 2>/dev/null || true
}

teardown() {
  local st=$1 ns=$2
  if [ -S "$st/run/docker.sock" ]; then
    local ids
    ids=$(docker -H "unix://$st/run/docker.sock" ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && docker -H "unix://$st/run/docker.sock" rm -f $ids >/dev/null 2>&1 || true
  fi
  stop_pidfile "$st/run/docker.pid" 40
  stop_pidfile "$st/run/sshd.pid" 10
  stop_pidfile "$st/run/socat.pid" 10
  # Whatever else still runs in the namespace (shims, sessions): it is ours.
  if [ -e "/run/netns/$ns" ]; then
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  fi
  ip link del "${ns}h" 2>/dev/null || true
  ip route del unreachable "$(cat "$st/subnet" 2>/dev/null || echo none)" metric 4000 2>/dev/null || true
  # Overlay mounts lived in the namespace's own mount namespace; with its processes gone, none remain.
  for _ in $(seq 1 20); do rm -rf "$st" 2>/dev/null && break; sleep 0.1; done
}

stop_pidfile() {
  local f=$1 tries=$2 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 "$tries"); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

# A host that stops answering (tests): every packet it receives is dropped, inside its namespace.
block() { nsenter --net="/run/netns/$(cat "$1/netns")" iptables -I INPUT -j DROP; }
unblock() { nsenter --net="/run/netns/$(cat "$1/netns")" iptables -D INPUT -j DROP; }

case "${1:-}" in
  up) up "${2:?state dir}" ;;
  block) block "${2:?state dir}" ;;
  unblock) unblock "${2:?state dir}" ;;
  down) down "${2:?state dir}" ;;
  inner) inner "$2" "$3" ;;
  ensure) ensure ;;
  sweep) sweep ;;
  *) die "usage: remote_host.sh up|down <state dir> | ensure" ;;
esac
