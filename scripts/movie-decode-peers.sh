#!/usr/bin/env bash
# Decode rate of cryocap against the independent decoders on the same
# movies, one thread each: imagecodecs' LZW and EER codecs (codec calls
# only, timed in scripts/movie-decode-peers.py) and `bzip2 -d`.
# cryocap's figure is `bench movies --threads 1` decode time, which also
# multiplies by the gain and sums the frames, so the ratio is conservative.
# The two sides alternate, ROUNDS times (cryocap first in odd rounds, the
# peer first in even ones); the medians and the median of the per-round
# ratios are printed.
#
#   scripts/movie-decode-peers.sh [DIR] [SIZE] [ROUNDS]   (needs python3 with
#   tifffile and imagecodecs, and bzip2; DIR is created and left in place)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/movie-peers}"
size="${2:-2048x2048}"
rounds="${3:-5}"
bin=target/release/cryocap
[ -x "$bin" ] || cargo build --release --locked
mkdir -p "$dir"
for f in tiff-lzw:40 eer:400 mrc-bz2:40; do
  fmt=${f%%:*}; frames=${f#*:}
  mode=()
  # --mode picks the MRC pixel type; TIFF and EER have their own.
  [ "$fmt" = mrc-bz2 ] && mode=(--mode 0)
  mkdir -p "$dir/$fmt"
  if ! ls "$dir/$fmt"/movie_* >/dev/null 2>&1; then
    "$bin" movies create --dir "$dir/$fmt" --movie-format "$fmt" "${mode[@]}" --size "$size" \
      --frames "$frames" --movies 2 --reserve 0 --quiet >/dev/null
  fi
done
ours() { "$bin" bench movies --dir "$dir/$1" --threads 1 --buffered --quiet --format json; }
peer() { python3 scripts/movie-decode-peers.py "$dir/$1"; }
for fmt in tiff-lzw eer mrc-bz2; do
  runs=()
  for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then o=$(ours "$fmt"); p=$(peer "$fmt"); else p=$(peer "$fmt"); o=$(ours "$fmt"); fi
    runs+=("$o" "$p")
  done
  python3 - "$fmt" "${runs[@]}" <<'PY'
import json, statistics, sys
fmt, runs = sys.argv[1], sys.argv[2:]
mine, theirs = [], []
for o, p in zip(runs[0::2], runs[1::2]):
    run = [r for r in json.loads(o)["runs"] if r["threads"] == 1][0]
    mine.append(run["file_bytes"] / run["decode_seconds"])
    theirs.append(json.loads(p)[fmt]["bytes_per_second"])
    size = run["file_bytes"]
ratios = [m / t for m, t in zip(mine, theirs)]
print(f"{fmt:9} cryocap {statistics.median(mine)/1e6:8.1f} MB/s   peer {statistics.median(theirs)/1e6:8.1f} MB/s   "
      f"ratio {statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}, n={len(ratios)})   ({size/1e6:.0f} MB compressed)")
PY
done
