#!/usr/bin/env python3
"""Regenerates the command output quoted in docs pages from the binary, so
that the docs never drift from what cryocap prints.

A generated block in a page looks like this:

    <!-- cryocap: jobs predict --job relion-class3d ... -->
    ```text
    $ cryocap jobs predict --job relion-class3d ...
    (output)
    ```
    <!-- end -->

Usage: scripts/regen-docs.py [--check] [--bin target/release/cryocap] PAGE...
With --check nothing is written; the exit status is 1 when a page is stale.
"""
import argparse
import re
import shlex
import subprocess
import sys

BLOCK = re.compile(r"<!-- cryocap: (?P<args>.*?) -->\n.*?<!-- end -->", re.S)


def render(binary, args):
    argv = [binary] + shlex.split(args)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if done.returncode not in (0, 1):
        sys.exit(f"regen-docs: `cryocap {args}` exited {done.returncode}: {done.stderr.strip()}")
    body = done.stdout.rstrip("\n")
    return f"<!-- cryocap: {args} -->\n```text\n$ cryocap {args}\n{body}\n```\n<!-- end -->"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--bin", default="target/release/cryocap")
    ap.add_argument("pages", nargs="+")
    a = ap.parse_args()
    stale = []
    for page in a.pages:
        text = open(page, encoding="utf-8").read()
        new = BLOCK.sub(lambda m: render(a.bin, m.group("args")), text)
        if new != text:
            stale.append(page)
            if not a.check:
                with open(page, "w", encoding="utf-8") as f:
                    f.write(new)
    if a.check and stale:
        print("stale: " + ", ".join(stale) + " (run scripts/regen-docs.py on them)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
