"""traced_plainconvunet.pt: dynamic_network_architectures' PlainConvUNet (3 stages, 4-8-16
features, random weights) traced with torch.jit.trace. Tracing keeps the encoder twice, as
`encoder` and `decoder.encoder` (copies sharing their parameters), and forward() calls the
second: the test model for layer aliases.

    /usr/bin/python3 tests/data/models/make_traced_plainconvunet.py --dna PATH/TO/dynamic-network-architectures
"""
import argparse
import os
import sys

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--dna", required=True, help="a checkout of dynamic-network-architectures")
args = parser.parse_args()
sys.path.insert(0, args.dna)
from dynamic_network_architectures.architectures.unet import PlainConvUNet  # noqa: E402

torch.manual_seed(0)
net = PlainConvUNet(1, 3, [4, 8, 16], torch.nn.Conv3d, 3, [1, 2, 2], 2, 2, 2, True, torch.nn.InstanceNorm3d,
                    {"eps": 1e-5, "affine": True}, None, None, torch.nn.LeakyReLU, {"inplace": True}).eval()
traced = torch.jit.trace(net, torch.zeros(1, 1, 16, 16, 16))
traced.save(os.path.join(os.path.dirname(os.path.abspath(__file__)), "traced_plainconvunet.pt"))
