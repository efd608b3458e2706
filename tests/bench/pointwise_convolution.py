#!/usr/bin/python3
"""usage: tests/bench/pointwise_convolution.py [THREADS]

Times a 1x1x1 3D convolution in PyTorch (oneDNN on the CPU) against the batched matrix product
SegXAI runs in its place (engine/torch/convolutions.cpp), forward and forward +
backward with respect to the input, and the rise of resident memory during each forward, for
the shapes that matter: nnU-Net's output layers (105 classes) at 128^3 windows and hidden
1x1x1 layers as in MONAI's residual units. Fastest of 3 (2 with backward), in one run.
"""
import sys
import threading
import time

import torch


def resident_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


class PeakSampler:
    def __init__(self):
        self.peak, self.stop = 0.0, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, resident_mib())
            time.sleep(0.001)

    def rise(self, f):
        time.sleep(0.02)
        base = resident_mib()
        self.peak = base
        out = f()
        time.sleep(0.02)
        rise = self.peak - base
        del out
        return rise


def as_product(x, w, b):
    """SegXAI's computation: [B, O, C] x [B, C, XYZ], the bias added by the product."""
    batch, channels, outputs = x.shape[0], x.shape[1], w.shape[0]
    voxels = x.reshape(batch, channels, -1)
    matrix = w.view(1, outputs, channels).expand(batch, outputs, channels)
    bias = b.view(1, outputs, 1).expand(batch, outputs, voxels.shape[2])
    return torch.baddbmm(bias, matrix, voxels).view(batch, outputs, *x.shape[2:])


def fastest(f, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    sampler = PeakSampler()
    print("batch in out size | forward: conv product (s) | forward+backward: conv product (s) | "
          "rise of memory: conv product (MiB) | max |difference|")
    for batch, channels, outputs, size in [(1, 4, 105, 128), (1, 32, 105, 128), (1, 32, 32, 128),
                                           (1, 64, 64, 64), (8, 16, 16, 64), (1, 8, 2, 128)]:
        x = torch.randn(batch, channels, size, size, size)
        w, b = torch.randn(outputs, channels, 1, 1, 1), torch.randn(outputs)
        conv = lambda t: torch.nn.functional.conv3d(t, w, b)  # noqa: E731
        product = lambda t: as_product(t, w, b)  # noqa: E731
        with torch.inference_mode():
            forward = [fastest(lambda: f(x), 3) for f in (conv, product)]
            rise = [sampler.rise(lambda: f(x)) for f in (conv, product)]
            difference = (conv(x) - product(x)).abs().max().item()
        xg = x.clone().requires_grad_(True)

        def both(f):
            f(xg).sum().backward()
            xg.grad = None

        backward = [fastest(lambda: both(f), 2) for f in (conv, product)]
        print(f"{batch} {channels} {outputs} {size}^3 | {forward[0]:.3f} {forward[1]:.3f} | "
              f"{backward[0]:.3f} {backward[1]:.3f} | {rise[0]:.0f} {rise[1]:.0f} | {difference:.2g}", flush=True)
    sampler.stop = True


if __name__ == "__main__":
    main()
