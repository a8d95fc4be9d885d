#!/usr/bin/env bash
# Checks the tarballs scripts/release.sh left in dist/: SHA256SUMS matches;
# each tarball holds the binary, README, licences, completions and man
# pages; the newest GLIBC symbol version each binary needs is at most 2.17;
# the x86-64 binary runs `plan` and a small `bench io` here; the aarch64 one
# runs `plan`, `stack create` and `stack info` under qemu-aarch64 with
# Debian's aarch64 C library (apt: qemu-user libc6-arm64-cross).
# Prints what it found (sizes, GLIBC versions, the qemu run's output).
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_GLIBC=2.17
VERSION="$(sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1)"
QEMU_LD_PREFIX="${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}"

fail() { echo "release-check: FAIL: $*" >&2; exit 1; }
for tool in readelf sha256sum qemu-aarch64; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt install binutils coreutils qemu-user)"
done
[ -d "$QEMU_LD_PREFIX/lib" ] || fail "no aarch64 C library in $QEMU_LD_PREFIX (apt install libc6-arm64-cross)"

(cd dist && sha256sum --check --strict SHA256SUMS) || fail "dist/SHA256SUMS does not match"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for t in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu; do
  name="cryocap-$VERSION-$t"
  tar -xzf "dist/$name.tar.gz" -C "$work"
  root="$work/$name"
  for f in cryocap README.md LICENSE-MIT LICENSE-APACHE completions/cryocap.bash \
           completions/_cryocap completions/cryocap.fish man/man1/cryocap.1 \
           man/man1/cryocap-bench-io.1; do
    [ -s "$root/$f" ] || fail "$name.tar.gz lacks $f"
  done
  bin="$root/cryocap"
  # the version names of the GLIBC symbols the binary needs (readelf reads
  # both architectures' ELF files)
  needed="$(readelf --version-info --wide "$bin" | grep -o 'Name: GLIBC_[0-9.]*' | sed 's/Name: GLIBC_//' | sort -uV)"
  newest="$(tail -n 1 <<<"$needed")"
  [ -n "$newest" ] || fail "$t: no GLIBC symbol versions found"
  if [ "$(printf '%s\n%s\n' "$newest" "$MAX_GLIBC" | sort -V | tail -n 1)" != "$MAX_GLIBC" ]; then
    fail "$t: needs GLIBC_$newest, newer than $MAX_GLIBC"
  fi
  echo "$t: binary $(stat -c %s "$bin") bytes, tarball $(stat -c %s "dist/$name.tar.gz") bytes; GLIBC versions needed: $(tr '\n' ' ' <<<"$needed")(newest $newest <= $MAX_GLIBC)"
  readelf --dynamic "$bin" | grep NEEDED | sed 's/^.*Shared library: /  needs /'
done

x86="$work/cryocap-$VERSION-x86_64-unknown-linux-gnu/cryocap"
arm="$work/cryocap-$VERSION-aarch64-unknown-linux-gnu/cryocap"
if [ "$(uname -m)" = x86_64 ]; then
  echo "== x86_64: plan, bench io"
  "$x86" --version
  "$x86" plan --particles 1e5 --box 128 > "$work/plan-x86.txt"
  mkdir "$work/io"
  "$x86" bench io --dir "$work/io" --create 256 --box 64 --ramp-time 0 --reserve 0 --quiet \
    --openmetrics "$work/io.prom" > "$work/io.txt"
  grep -q '^cryocap_io_random_bytes_per_second{' "$work/io.prom" || fail "x86_64 bench io wrote no random-read gauge"
  head -n 1 "$work/plan-x86.txt"
  grep '^cryocap_io_.*bytes_per_second{' "$work/io.prom"
fi

echo "== aarch64 under qemu-aarch64 -L $QEMU_LD_PREFIX: plan, stack create, stack info"
run_arm() { qemu-aarch64 -L "$QEMU_LD_PREFIX" "$arm" "$@"; }
run_arm --version
run_arm plan --particles 1e5 --box 128 > "$work/plan-arm.txt"
head -n 1 "$work/plan-arm.txt"
if [ -f "$work/plan-x86.txt" ]; then
  cmp -s "$work/plan-x86.txt" "$work/plan-arm.txt" || fail "plan differs between x86_64 and aarch64"
  echo "(plan's output is the same bytes on both)"
fi
mkdir "$work/stacks"
run_arm stack create --dir "$work/stacks" --particles 200 --box 64 --particles-per-file 100 --quiet \
  | sed "s|$work|WORK|g"
run_arm stack info "$work/stacks"/*.mrcs | sed "s|$work|WORK|g" | head -n 14
echo "release-check: OK"
