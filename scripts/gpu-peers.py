#!/usr/bin/env python3
"""Peers of `cryocap bench gpu` on the same GPU, through PyTorch (which the
lent GPU machine has): device-to-device copy, pinned host-to-device copy and
batched 2-D real FFTs of particle images, timed with CUDA events after a
warm-up, median and spread of repeats. Run by scripts/gpu-session.sh; prints
one line per figure, in the units `bench gpu` uses.
"""

import statistics
import sys

try:
    import torch
except ImportError:
    print("skipped: PyTorch is not installed here")
    sys.exit(0)

if not torch.cuda.is_available():
    print("skipped: PyTorch sees no CUDA device")
    sys.exit(0)

REPEATS = 7


def timed(work):
    """Seconds per call of work(), REPEATS times after one warm-up."""
    work()
    torch.cuda.synchronize()
    out = []
    for _ in range(REPEATS):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        work()
        b.record()
        b.synchronize()
        out.append(a.elapsed_time(b) / 1e3)
    return out


def report(label, seconds, amount, unit):
    rates = sorted(amount / s for s in seconds)
    print(
        f"{label}: median {statistics.median(rates):.4g} {unit} "
        f"(min {rates[0]:.4g}, max {rates[-1]:.4g}, {len(rates)} repeats)"
    )


dev = torch.device("cuda")
print(f"device: {torch.cuda.get_device_name(dev)}, torch {torch.__version__}, CUDA {torch.version.cuda}")

# device-to-device copy of 1 GiB: bytes read + written, as bench gpu counts
n = (1 << 30) // 4
src = torch.empty(n, dtype=torch.float32, device=dev)
dst = torch.empty_like(src)
report("copy (torch, read + written)", timed(lambda: dst.copy_(src)), 2 * n * 4, "B/s")
del src, dst

# pinned host memory to the GPU, 512 MiB
host = torch.empty((512 << 20) // 4, dtype=torch.float32).pin_memory()
gpu = torch.empty(host.numel(), dtype=torch.float32, device=dev)
report(
    "host to device (pinned)",
    timed(lambda: gpu.copy_(host, non_blocking=True)),
    host.numel() * 4,
    "B/s",
)
del host, gpu

# batched 2-D R2C FFTs of particle images
for box in (128, 256, 432):
    batch = max(1, (256 << 20) // (box * box * 4))
    images = torch.randn(batch, box, box, device=dev)
    report(
        f"rfft2 box {box} (batch {batch})",
        timed(lambda: torch.fft.rfft2(images)),
        batch,
        "images/s",
    )
    del images
