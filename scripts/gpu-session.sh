#!/usr/bin/env bash
# One prepared run on a lent GPU machine, which has no Rust toolchain and
# no network: everything is built here and carried there in one bundle.
#
#   scripts/gpu-session.sh pack          # here: writes .gpu/bundle.tar.xz
#   scripts/gpu-session.sh run [STEP...] # there (the device tool's `run`
#                                        # with carry [".gpu"]), results
#                                        # under $OUT
#
# Steps, in order (all by default; each bounded by its own timeout, so one
# that hangs cannot eat the session):
#   machine   GPU, driver, cores, memory, disk
#   tests     the GPU tests (lib and CLI) against their CPU references
#   suite     bench gpu: checks, copies, FFT, insertion, end to end, frame
#             alignment at K3 and Falcon 4i sizes (issue 18)
#   memory    bench gpu --job-memory at box 256/432/600, pad 1 and 2 (issue 15)
#   files     bench gpu --from-files, float16 and float32 stacks at box 256,
#             from the page cache and with O_DIRECT from local disk (issue 18)
#   peers     PyTorch copy, host link and FFT on the same GPU (docs/sources.md §8)
#
# Add /.gpu/ to .git/info/exclude here so the bundle is never committed.
set -euo pipefail
cd "$(dirname "$0")/.."

pack() {
    cargo build --release --locked
    # the test binaries, optimised (the debug ones are too large to carry)
    local list
    list="$(cargo test --release --locked --no-run --message-format=json 2>/dev/null |
        python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        name, kinds = m["target"]["name"], m["target"]["kind"]
        # the library'"'"'s unit tests (not the binary'"'"'s), and the CLI suite
        if (name, kinds) in (("cryocap", ["lib"]), ("cli", ["test"])):
            print(name, m["executable"])
')"
    rm -rf .gpu/stage && mkdir -p .gpu/stage/release/deps
    cp target/release/cryocap .gpu/stage/release/
    while read -r name exe; do
        # cli tests find the binary at deps/../cryocap, as cargo lays it out
        cp "$exe" ".gpu/stage/release/deps/${name}-tests"
    done <<<"$list"
    strip .gpu/stage/release/cryocap .gpu/stage/release/deps/*
    tar -C .gpu/stage -cJf .gpu/bundle.tar.xz release
    rm -rf .gpu/stage
    ls -l .gpu/bundle.tar.xz
}

# step NAME SECONDS COMMAND...: runs COMMAND with its output in $OUT/NAME.txt
step() {
    local name="$1" limit="$2"
    shift 2
    local t0=$SECONDS rc=0
    timeout "$limit" "$@" >"$OUT/$name.txt" 2>&1 || rc=$?
    printf '%-24s rc=%-3s %4ss\n' "$name" "$rc" "$((SECONDS - t0))" | tee -a "$OUT/steps.txt"
}

run() {
    : "${OUT:?set OUT to the folder results go to}"
    local work="${TMPDIR:-/tmp}/cryocap-gpu"
    rm -rf "$work" && mkdir -p "$work"
    tar -C "$work" -xJf .gpu/bundle.tar.xz
    local bin="$work/release/cryocap" tests="$work/release/deps"
    local steps=("$@")
    [ ${#steps[@]} -gt 0 ] || steps=(machine tests suite memory files peers)
    for s in "${steps[@]}"; do
        case "$s" in
        machine)
            step machine 30 bash -c 'nvidia-smi; nproc; free -g; df -h .; uname -r'
            ;;
        tests)
            step tests-lib 180 "$tests/cryocap-tests" gpu:: --test-threads 1
            step tests-cli 300 "$tests/cli-tests" --test-threads 1 \
                reconstruct::gpu_reconstruction bench_gpu::with_a_gpu bench_gpu::from_files
            ;;
        suite)
            step suite 300 "$bin" bench gpu --box 128,256,432 --json "$OUT/bench-gpu.json"
            ;;
        memory)
            step memory 180 "$bin" bench gpu --job-memory --box 256,432,600 --pad 1,2 \
                --json "$OUT/job-memory.json"
            ;;
        files)
            mkdir -p "$work/f16" "$work/f32"
            step stacks-f16 120 "$bin" stack create --dir "$work/f16" --particles 100000 --box 256 --dtype f16 -q
            step stacks-f32 120 "$bin" stack create --dir "$work/f32" --particles 50000 --box 256 -q
            for d in f16 f32; do
                step "files-$d-cache" 180 "$bin" bench gpu --from-files "$work/$d" --pad 1 \
                    --buffered --json "$OUT/from-files-$d-cache.json"
                step "files-$d-direct" 180 "$bin" bench gpu --from-files "$work/$d" --pad 1 \
                    --json "$OUT/from-files-$d-direct.json"
            done
            ;;
        peers)
            step peers 120 python3 scripts/gpu-peers.py
            ;;
        *)
            echo "unknown step $s" | tee -a "$OUT/steps.txt"
            ;;
        esac
    done
    rm -rf "$work"
}

case "${1:-}" in
pack) pack ;;
run)
    shift
    run "$@"
    ;;
*)
    echo "usage: $0 pack | run [machine tests suite memory files peers]" >&2
    exit 2
    ;;
esac
