#!/bin/sh
# Installs kinfra: downloads the release archive for this machine and the release's SHA256SUMS,
# refuses the archive unless its checksum matches, and puts the binary in ~/.local/bin.
#
#   curl -fsSL https://github.com/kinfra-dev/kinfra/releases/latest/download/install.sh | sh
#   curl -fsSL …/install.sh | sh -s -- --version 0.2.0 --prefix /usr/local
#   sh install.sh --from dist/          # what `deno task build` made
#
# Running it again installs the same or a newer release over the old one (that is the upgrade).
# KINFRA_REPO (owner/name) and KINFRA_DOWNLOAD_URL (instead of https://github.com/$KINFRA_REPO/releases)
# point it elsewhere.
set -eu

REPO="${KINFRA_REPO:-kinfra-dev/kinfra}"
BASE_URL="${KINFRA_DOWNLOAD_URL:-https://github.com/$REPO/releases}"
version=latest
prefix="${HOME:?HOME is not set}/.local"
from=""

usage() {
  cat <<EOF
usage: install.sh [--version X.Y.Z] [--prefix DIR] [--from DIR]

  --version X.Y.Z  install that release (default: the latest)
  --prefix DIR     install DIR/bin/kinfra (default: ~/.local)
  --from DIR       install from a local build (kinfra-<target>.tar.gz and SHA256SUMS in DIR)
EOF
}

die() {
  printf 'install.sh: %s\n' "$1" >&2
  if [ -n "${2:-}" ]; then printf 'hint: %s\n' "$2" >&2; fi
  exit 1
}

value() { # the value of option $1, or an error naming what it wants
  [ -n "${3:-}" ] || die "$1 needs a value" "$2"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --version) value "$1" "e.g. --version 0.1.0" "${2:-}"; version="${2#v}"; shift 2 ;;
    --prefix) value "$1" "e.g. --prefix /usr/local" "${2:-}"; prefix="$2"; shift 2 ;;
    --from) value "$1" "e.g. --from dist/" "${2:-}"; from="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument: $1" "sh install.sh --help" ;;
  esac
done

case "$(uname -s)" in
  Linux) os=unknown-linux-gnu ;;
  Darwin) os=apple-darwin ;;
  *) die "$(uname -s) is not supported" "kinfra runs on Linux and macOS; on Windows, install it inside WSL." ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) die "no kinfra build for $(uname -m)" "builds exist for x86_64 and aarch64; from source: deno run -A main.ts" ;;
esac
target="$arch-$os"
archive="kinfra-$target.tar.gz"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

fetch() { # url file
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    die "needs curl or wget to download $1"
  fi
}

if [ -n "$from" ]; then
  [ -f "$from/$archive" ] || die "no $archive in $from" "build it: deno task build --target $target --out $from"
  [ -f "$from/SHA256SUMS" ] || die "no SHA256SUMS in $from" "deno task build writes it beside the archives"
  cp "$from/$archive" "$from/SHA256SUMS" "$tmp/"
else
  if [ "$version" = latest ]; then url="$BASE_URL/latest/download"; else url="$BASE_URL/download/v$version"; fi
  echo "Downloading $url/$archive" >&2
  fetch "$url/$archive" "$tmp/$archive" ||
    die "could not download $url/$archive" "is $version a release? See https://github.com/$REPO/releases"
  fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS" || die "could not download $url/SHA256SUMS"
fi

expected=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || die "SHA256SUMS lists no $archive"
if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$tmp/$archive" | awk '{ print $1 }')
elif command -v shasum >/dev/null 2>&1; then
  actual=$(shasum -a 256 "$tmp/$archive" | awk '{ print $1 }')
else
  die "needs sha256sum or shasum to verify the download; nothing was installed"
fi
[ "$expected" = "$actual" ] ||
  die "checksum mismatch for $archive (expected $expected, got $actual); nothing was installed" \
    "download it again; if it still differs, do not use it and report it"
echo "Checksum OK: $archive sha256 $actual" >&2

tar -xzf "$tmp/$archive" -C "$tmp" kinfra || die "$archive holds no kinfra binary"
bin="$prefix/bin"
mkdir -p "$bin" || die "cannot create $bin" "pick another --prefix"
if [ -f "$bin/kinfra" ] && cmp -s "$tmp/kinfra" "$bin/kinfra"; then
  echo "kinfra in $bin is already this build; nothing to do." >&2
else
  # Beside the target, then renamed over it: a kinfra that is running keeps its old file.
  cp "$tmp/kinfra" "$bin/.kinfra.$$"
  chmod 755 "$bin/.kinfra.$$"
  mv -f "$bin/.kinfra.$$" "$bin/kinfra"
fi
installed=$("$bin/kinfra" --version 2>&1) || die "$bin/kinfra does not run: $installed"
echo "Installed kinfra $installed ($target) at $bin/kinfra"
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "$bin is not on your PATH; add it:  export PATH=\"$bin:\$PATH\"" ;;
esac
echo "Next:"
echo "  kinfra doctor                    # checks git, Docker and Compose"
echo "  cd your-project && kinfra init   # then: kinfra impl <feature>/M1"
