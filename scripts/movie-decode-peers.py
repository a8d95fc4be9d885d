#!/usr/bin/env python3
"""Time the independent decoders on the movies cryocap decodes, one thread,
codec calls only (no Python file handling in the timed part):

  LZW TIFF  imagecodecs.lzw_decode on each strip of each page
  EER       imagecodecs.eer_decode on each frame's strip
  bzip2 MRC `bzip2 -d` (the command-line tool, libbz2) on each file

Prints one JSON object: per format, the compressed bytes, the seconds and
the compressed bytes per second. scripts/movie-decode-peers.sh runs this and
`cryocap bench movies --threads 1` on the same files and prints the ratios.
"""
import glob
import json
import os
import subprocess
import sys
import time

import imagecodecs
import tifffile


def strips(path):
    """(bytes, page) of every strip, read before timing."""
    out = []
    with tifffile.TiffFile(path) as t:
        fh = t.filehandle
        for page in t.pages:
            page = page.aspage()
            for off, n in zip(page.dataoffsets, page.databytecounts):
                fh.seek(off)
                out.append((fh.read(n), page))
    return out


def lzw(paths):
    data = [s for p in paths for s in strips(p)]
    t = time.perf_counter()
    for d, _ in data:
        imagecodecs.lzw_decode(d)
    return sum(len(d) for d, _ in data), time.perf_counter() - t


def eer(paths):
    data = []
    for p in paths:
        for d, page in strips(p):
            tags = page.tags
            args = (
                int(tags.valueof(65007, 7)),
                int(tags.valueof(65008, 2)),
                int(tags.valueof(65009, 2)),
            )
            data.append((d, (page.imagelength, page.imagewidth), args))
    t = time.perf_counter()
    for d, shape, (r, h, v) in data:
        imagecodecs.eer_decode(d, shape, r, h, v)
    return sum(len(d) for d, _, _ in data), time.perf_counter() - t


def bz2(paths):
    total = 0
    t = time.perf_counter()
    for p in paths:
        subprocess.run(["bzip2", "-dc", p], stdout=subprocess.DEVNULL, check=True)
        total += os.path.getsize(p)
    return total, time.perf_counter() - t


def main():
    d = sys.argv[1]
    found = {
        "tiff-lzw": sorted(glob.glob(os.path.join(d, "*.tif"))),
        "eer": sorted(glob.glob(os.path.join(d, "*.eer"))),
        "mrc-bz2": sorted(glob.glob(os.path.join(d, "*.mrc.bz2"))),
    }
    peers = {"tiff-lzw": lzw, "eer": eer, "mrc-bz2": bz2}
    out = {}
    for fmt, paths in found.items():
        if paths:
            n, s = peers[fmt](paths)
            out[fmt] = {"bytes": n, "seconds": s, "bytes_per_second": n / s}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
