#!/usr/bin/env bash
# Builds the release tarballs: cryocap for x86_64 and aarch64 Linux, linked
# against glibc 2.17 (CentOS 7 and newer) with cargo-zigbuild, each packed as
# dist/cryocap-VERSION-TARGET.tar.gz with the README, the licences, the
# shell completions and the man pages, and dist/SHA256SUMS over them.
#
# Needs: rustup (the aarch64 target is added here when missing) and
# cargo-zigbuild with zig: `python3 -m pip install ziglang cargo-zigbuild`.
# CUDA is loaded at run time (cudarc's dynamic loading), so one binary serves
# GPU and CPU nodes. Run from anywhere; writes only cargo's target
# directory and dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "error: $*" >&2; exit 2; }

GLIBC=2.17
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu)
# The cargo profile to build with: `release` for tarballs to publish; CI sets
# CRYOCAP_RELEASE_PROFILE=dist-check (Cargo.toml), which links the same way
# against the same glibc but optimises less, so the check fits CI's time.
PROFILE="${CRYOCAP_RELEASE_PROFILE:-release}"
case "$PROFILE" in
  release) PROFILE_DIR=release ;;
  *[!a-z0-9-]*|"") fail "CRYOCAP_RELEASE_PROFILE: '$PROFILE' is not a cargo profile name" ;;
  *) PROFILE_DIR="$PROFILE" ;;
esac

command -v cargo-zigbuild >/dev/null \
  || fail "cargo-zigbuild not found; install it with: python3 -m pip install ziglang cargo-zigbuild"
VERSION="$(sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1)"
[ -n "$VERSION" ] || fail "no version in Cargo.toml"
if command -v rustup >/dev/null; then
  installed="$(rustup target list --installed)"
  for t in "${TARGETS[@]}"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
  done
fi

# Man page dates and file times in the tarballs come from the last commit,
# so that two builds of one commit pack the same bytes.
SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH

# where cargo puts the binaries (CARGO_TARGET_DIR or a config may move it)
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
[ -n "$TARGET_DIR" ] || fail "cargo metadata names no target directory"

for t in "${TARGETS[@]}"; do
  echo "cryocap $VERSION: building $t against glibc $GLIBC" >&2
  cargo zigbuild --profile "$PROFILE" --locked --target "$t.$GLIBC"
done

# Completions and man pages are the same for every target: made by the
# binary this machine runs.
case "$(uname -m)" in
  x86_64) native=x86_64-unknown-linux-gnu ;;
  aarch64) native=aarch64-unknown-linux-gnu ;;
  *) fail "no native binary for $(uname -m) to write the completions and man pages" ;;
esac
native_bin="$TARGET_DIR/$native/$PROFILE_DIR/cryocap"

mkdir -p dist
for t in "${TARGETS[@]}"; do
  name="cryocap-$VERSION-$t"
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' EXIT
  root="$stage/$name"
  mkdir -p "$root/completions" "$root/man/man1"
  install -m 0755 "$TARGET_DIR/$t/$PROFILE_DIR/cryocap" "$root/cryocap"
  install -m 0644 README.md LICENSE-MIT LICENSE-APACHE "$root/"
  "$native_bin" completions bash > "$root/completions/cryocap.bash"
  "$native_bin" completions zsh > "$root/completions/_cryocap"
  "$native_bin" completions fish > "$root/completions/cryocap.fish"
  "$native_bin" manpages --dir "$root/man/man1" > /dev/null
  chmod 0644 "$root"/completions/* "$root"/man/man1/*
  tar --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$SOURCE_DATE_EPOCH" -C "$stage" -cf - "$name" \
    | gzip -n -9 > "dist/$name.tar.gz.tmp"
  mv "dist/$name.tar.gz.tmp" "dist/$name.tar.gz"
  rm -rf "$stage"
  trap - EXIT
done

(
  cd dist
  sha256sum "cryocap-$VERSION-"*.tar.gz > SHA256SUMS.tmp
  mv SHA256SUMS.tmp SHA256SUMS
)
ls -l dist >&2
