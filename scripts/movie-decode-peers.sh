#!/usr/bin/env bash
# Decode rate of cryocap against the independent decoders on the same
# movies, one thread each: imagecodecs' LZW and EER codecs (codec calls
# only, timed in scripts/movie-decode-peers.py) and `bzip2 -d`.
# cryocap's figure is `bench movies --threads 1` decode time, which also
# multiplies by the gain and sums the frames, so the ratio is conservative.
#
#   scripts/movie-decode-peers.sh [DIR] [SIZE]   (needs python3 with
#   tifffile and imagecodecs, and bzip2; DIR is created and left in place)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/movie-peers}"
size="${2:-2048x2048}"
bin=target/release/cryocap
[ -x "$bin" ] || cargo build --release --locked
mkdir -p "$dir"
for f in tiff-lzw:40 eer:400 mrc-bz2:40; do
  fmt=${f%%:*}; frames=${f#*:}
  mkdir -p "$dir/$fmt"
  if ! ls "$dir/$fmt"/movie_* >/dev/null 2>&1; then
    "$bin" movies create --dir "$dir/$fmt" --movie-format "$fmt" --mode 0 --size "$size" \
      --frames "$frames" --movies 2 --reserve 0 --quiet >/dev/null
  fi
done
for fmt in tiff-lzw eer mrc-bz2; do
  peer=$(python3 scripts/movie-decode-peers.py "$dir/$fmt")
  ours=$("$bin" bench movies --dir "$dir/$fmt" --threads 1 --buffered --quiet --format json)
  python3 - "$fmt" "$peer" "$ours" <<'PY'
import json, sys
fmt, peer, ours = sys.argv[1], json.loads(sys.argv[2])[sys.argv[1]], json.loads(sys.argv[3])
run = [r for r in ours["runs"] if r["threads"] == 1][0]
mine = run["file_bytes"] / run["decode_seconds"]
print(f"{fmt:9} cryocap {mine/1e6:8.1f} MB/s   peer {peer['bytes_per_second']/1e6:8.1f} MB/s   ratio {mine/peer['bytes_per_second']:.2f}x   ({run['file_bytes']/1e6:.0f} MB compressed)")
PY
done
