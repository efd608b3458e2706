"""One forward of dynamic_network_architectures' PlainConvUNet in PyTorch, planned as
tests/bench/bench_nnunet.cpp plans it (CT, 64^3 patches, features 32-320, 5 stages), on the CPU
without autograd, as nnU-Net's predictor runs it. Prints the median time of a forward.

    /usr/bin/python3 tests/bench/nnunet_forward.py --dna PATH/TO/dynamic-network-architectures [--threads N] [repeats]

The architecture package is pure PyTorch (github.com/MIC-DKFZ/dynamic-network-architectures);
its sources are not part of this repository.
"""
import argparse
import statistics
import sys
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--dna", required=True, help="a checkout of dynamic-network-architectures")
parser.add_argument("--threads", type=int, default=0, help="intra-op threads (default: torch's own choice)")
parser.add_argument("repeats", nargs="?", type=int, default=5)
args = parser.parse_args()
if args.threads > 0:
    torch.set_num_threads(args.threads)
sys.path.insert(0, args.dna)
from dynamic_network_architectures.architectures.unet import PlainConvUNet  # noqa: E402

torch.manual_seed(0)
net = PlainConvUNet(1, 5, [32, 64, 128, 256, 320], torch.nn.Conv3d, [[3, 3, 3]] * 5,
                    [[1, 1, 1]] + [[2, 2, 2]] * 4, [2] * 5, 3, [2] * 4, True, torch.nn.InstanceNorm3d,
                    {"eps": 1e-5, "affine": True}, None, None, torch.nn.LeakyReLU, {"inplace": True},
                    deep_supervision=False).eval()
x = torch.randn(1, 1, 64, 64, 64)
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
with torch.inference_mode():
    net(x)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        net(x)
        times.append((time.perf_counter() - start) * 1000.0)
print(f"PyTorch PlainConvUNet 32-320, patch 64^3: forward {statistics.median(times):.1f} ms "
      f"(median of {args.repeats})")
