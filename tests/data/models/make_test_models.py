#!/usr/bin/python3
"""Builds the tiny TorchScript models and expected values the C++ tests use.

Run with Debian's python3-torch:  /usr/bin/python3 tests/data/models/make_test_models.py
Outputs land beside this script and are committed; rerunning reproduces them (fixed seeds).
"""
import json
import math
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "assets", "models", "train"))
from segxai_unet import UNet  # noqa: E402


def formula_input(channels, shape):
    """Deterministic input the C++ tests rebuild: x[c, i, j, k] = sin(0.3 i + 0.2 (c + 1) j + 0.1 k)."""
    i = torch.arange(shape[0], dtype=torch.float64).view(-1, 1, 1)
    j = torch.arange(shape[1], dtype=torch.float64).view(1, -1, 1)
    k = torch.arange(shape[2], dtype=torch.float64).view(1, 1, -1)
    x = torch.stack([torch.sin(0.3 * i + 0.2 * (c + 1) * j + 0.1 * k) for c in range(channels)])
    return x.float().unsqueeze(0)


class Tensors(nn.Module):
    """A TorchScript container of named tensors (C++ reads module.attr(name).toTensor())."""

    def __init__(self, tensors):
        super().__init__()
        for name, t in tensors.items():
            self.register_buffer(name, t.detach().clone())

    def forward(self):
        return 0


def save_tensors(tensors, name):
    torch.jit.save(torch.jit.script(Tensors(tensors)), os.path.join(HERE, name))


def write_card(name, card):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


def tiny_unet():
    torch.manual_seed(1)
    net = UNet(2, 3, channels=(4, 8, 16), strides=(2, 2), norm="batch")
    for m in net.modules():  # non-trivial running statistics
        if isinstance(m, nn.BatchNorm3d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    net.eval()
    example = formula_input(2, (16, 20, 12))
    torch.jit.save(torch.jit.trace(net, example), os.path.join(HERE, "tiny_unet_traced.pt"))
    torch.jit.save(torch.jit.script(net), os.path.join(HERE, "tiny_unet_scripted.pt"))
    card = {
        "name": "tiny U-Net",
        "description": "Random weights; for tests only.",
        "input_channels": ["t1", "flair"],
        "classes": [{"name": "background", "color": [0, 0, 0]},
                    {"name": "lesion", "color": [255, 64, 32]},
                    {"name": "edema", "color": [64, 200, 64]}],
        "divisible_by": 4,
        "cam_layer": "model.1.submodule.1",
        "output": "logits",
    }
    write_card("tiny_unet_traced.json", card)
    write_card("tiny_unet_scripted.json", card)

    # Expected layer outputs and gradients of S = sum of class-1 logits over a box.
    paths = ["model.0", "model.0.conv", "model.1", "model.1.submodule.0",
             "model.1.submodule.1", "model.1.submodule.1.submodule", "model.1.submodule.2.adn.A",
             "model.2"]
    named = dict(net.named_modules())
    expected = {}
    for p in paths:
        captured = {}
        handle = named[p].register_forward_hook(lambda m, i, o: captured.__setitem__("a", o))
        x = example.clone().requires_grad_(True)
        out = net(x)
        handle.remove()
        a = captured["a"]
        score = out[0, 1, 2:6, 3:9, 1:5].sum()
        ga, gx = torch.autograd.grad(score, [a, x])
        key = p.replace(".", "_")
        expected["act_" + key] = a
        expected["gact_" + key] = ga
        expected["gin_" + key] = gx
    expected["input"] = example
    expected["output"] = net(example)
    save_tensors(expected, "tiny_unet_expected.pt")


def local_fcn():
    """Fully convolutional, no strides, no global normalisation: sliding-window inference
    must match whole-volume inference away from patch borders."""
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv3d(4, 4, 3, padding=1),
                        nn.ReLU(), nn.Conv3d(4, 2, 1)).eval()
    torch.jit.save(torch.jit.trace(net, torch.zeros(1, 1, 8, 8, 8)), os.path.join(HERE, "local_fcn.pt"))


def wide_fcn():
    """Wide 3D convolutions (32 channels), the kind of work LibTorch spreads over every thread
    even for a batch of one: the test that an engine job uses every core runs it."""
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv3d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv3d(32, 32, 3, padding=1),
                        nn.ReLU(), nn.Conv3d(32, 2, 1)).eval()
    torch.jit.save(torch.jit.trace(net, torch.zeros(1, 1, 8, 8, 8)), os.path.join(HERE, "wide_fcn.pt"))


def many_classes():
    """105 classes, TotalSegmentator's count, from a small local network whose last layer is
    scaled so that each voxel has one clear winner (as a trained model): the memory tests and the
    105-class benchmark segment with it (its card: a 96^3 sliding window)."""
    torch.manual_seed(5)
    net = nn.Sequential(nn.Conv3d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv3d(8, 105, 1)).eval()
    with torch.no_grad():
        net[2].weight.mul_(8.0)
    torch.jit.save(torch.jit.trace(net, torch.zeros(1, 1, 8, 8, 8)), os.path.join(HERE, "many_classes.pt"))
    card = {"name": "105 classes", "sliding_window": {"patch": [96, 96, 96], "overlap": 0.5},
            "normalization": {"kind": "zscore", "nonzero": True}}
    with open(os.path.join(HERE, "many_classes.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


class AxisProbe(nn.Module):
    """Answers only for a (1, 1, 5, 6, 7) input, i.e. spatial axes in (i, j, k) order for a
    5 x 6 x 7 study. Class 1 wins where the input increases along the first spatial axis."""

    def forward(self, x):
        if x.shape[2] != 5 or x.shape[3] != 6 or x.shape[4] != 7:
            raise RuntimeError("axis probe expects spatial size 5 x 6 x 7 in (i, j, k) order")
        diff = x - torch.roll(x, 1, 2)
        return torch.cat([-diff, diff], dim=1)


class Throws(nn.Module):
    def forward(self, x):
        if x.sum() > -1e30:
            raise RuntimeError("deliberate failure inside forward")
        return x


class NanOutput(nn.Module):
    def forward(self, x):
        return torch.cat([x, x * float("nan")], dim=1)


class WrongShape(nn.Module):
    def forward(self, x):
        return x.sum(dim=1)


class Probabilities(nn.Module):
    """Outputs softmax probabilities of two classes: class 1 where the input is positive."""

    def forward(self, x):
        return torch.softmax(torch.cat([-4.0 * x, 4.0 * x], dim=1), dim=1)


def scripted_models():
    for cls, name in [(AxisProbe, "axis_probe.pt"), (Throws, "throws.pt"),
                      (NanOutput, "nan_output.pt"), (WrongShape, "wrong_shape.pt"),
                      (Probabilities, "probabilities.pt")]:
        torch.jit.save(torch.jit.script(cls()), os.path.join(HERE, name))
    write_card("probabilities.json", {"name": "probabilities", "output": "probabilities",
                                      "classes": ["negative", "positive"]})


class TwoChannelLayer(nn.Module):
    def forward(self, x):
        return torch.cat([torch.relu(x), torch.relu(-x)], dim=1)


class Tv1(nn.Module):
    """methods.md TV1: layer A = (ReLU(x), ReLU(-x)); a 1x1 head without bias gives class 1
    logits 2 A1 + 3 A2 and class 0 logits -A1 + A2 (scaled by `scale`)."""

    def __init__(self, scale=1.0):
        super().__init__()
        self.layer = TwoChannelLayer()
        self.head = nn.Conv3d(2, 2, 1, bias=False)
        with torch.no_grad():
            self.head.weight.copy_(scale * torch.tensor([[-1.0, 1.0], [2.0, 3.0]]).view(2, 2, 1, 1, 1))

    def forward(self, x):
        return self.head(self.layer(x))


class Tv2(nn.Module):
    """methods.md TV2: A = ReLU(x); a 3-tap head y(i) = A(i-1) + 2 A(i) + 3 A(i+1)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.ReLU()
        self.head = nn.Conv3d(1, 1, (3, 1, 1), padding=(1, 0, 0), bias=False)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 3, 1, 1))

    def forward(self, x):
        return self.head(self.layer(x))


class Halve(nn.Module):
    def forward(self, x):
        return nn.functional.avg_pool3d(x, (2, 1, 1))


class Tv3(nn.Module):
    """methods.md TV3: a layer at half resolution along i feeding a head at full resolution
    (class 0 = the upsampled layer value)."""

    def __init__(self):
        super().__init__()
        self.layer = Halve()

    def forward(self, x):
        a = self.layer(x)
        return nn.functional.interpolate(a, scale_factor=(2.0, 1.0, 1.0), mode="nearest")


class Cube(nn.Module):
    def forward(self, x):
        return x * x * x


class Product(nn.Module):
    def forward(self, x):
        return x[:, 0:1] * x[:, 1:2]


class Linear(nn.Module):
    """Class 0 = 0.5 x0 - 2 x1, voxel by voxel."""

    def __init__(self):
        super().__init__()
        self.head = nn.Conv3d(2, 1, 1, bias=False)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor([0.5, -2.0]).view(1, 2, 1, 1, 1))

    def forward(self, x):
        return self.head(x)


def toy_models():
    """The hand-checkable test vectors of docs/methods.md#test-vectors as TorchScript models."""
    for model, name, example in [(Tv1(), "tv1.pt", torch.zeros(1, 1, 4, 1, 1)),
                                 (Tv1(3.0), "tv1_scaled.pt", torch.zeros(1, 1, 4, 1, 1)),
                                 (Tv2(), "tv2.pt", torch.zeros(1, 1, 4, 1, 1)),
                                 (Tv3(), "tv3.pt", torch.zeros(1, 1, 4, 1, 1)),
                                 (Cube(), "cube.pt", torch.zeros(1, 1, 2, 1, 1)),
                                 (Product(), "product.pt", torch.zeros(1, 2, 1, 1, 1)),
                                 (Linear(), "linear.pt", torch.zeros(1, 2, 2, 2, 2))]:
        torch.jit.save(torch.jit.trace(model.eval(), example), os.path.join(HERE, name))


class Tv7(nn.Module):
    """methods.md TV7: class 1 at output voxels 0 and 1 (of 3, along i) has input gradients
    g1 = [0.5, -2, 0] and g2 = [1, 1, -0.1]; class 0 is zero."""

    def __init__(self):
        super().__init__()
        self.register_buffer("rows", torch.tensor([[0.5, -2.0, 0.0], [1.0, 1.0, -0.1], [0.0, 0.0, 0.0]]))

    def forward(self, x):
        line = x[:, 0, :, 0, 0]                                # [B, 3]
        z = torch.matmul(line, self.rows.t())                  # z[v] = sum_i rows[v, i] x[i]
        z = z.view(x.shape[0], 1, 3, 1, 1)
        return torch.cat([torch.zeros_like(z), z], dim=1)


class ContextBox(nn.Module):
    """A lesion detector that needs context by construction: class 1 where the input is
    above 1.5 AND no voxel of the 7 x 7 x 7 cube around it is zero (masked away); inputs are
    >= 1 wherever they are kept. The cube costs 1/343 of its mean per zero voxel; a factor of
    1e5 turns one missing voxel into a decisive penalty."""

    def __init__(self):
        super().__init__()
        self.box = nn.Conv3d(1, 1, 7, padding=3, bias=False)
        with torch.no_grad():
            self.box.weight.fill_(1.0 / 343.0)

    def forward(self, x):
        kept = x - torch.relu(x - 1.0)                         # 1 where kept (x >= 1), 0 where zeroed
        logit = 100.0 * (x - 1.5) - 1e5 * torch.relu(0.9999 - self.box(kept))
        return torch.cat([torch.zeros_like(logit), logit], dim=1)


def lesion_models():
    torch.jit.save(torch.jit.trace(Tv7().eval(), torch.zeros(1, 1, 3, 1, 1)), os.path.join(HERE, "tv7.pt"))
    torch.jit.save(torch.jit.trace(ContextBox().eval(), torch.zeros(1, 1, 16, 16, 16)), os.path.join(HERE, "context_box.pt"))


def dropout_models():
    """Monte Carlo dropout: the same small network with dropout p = 0.5 and p = 0, scripted
    (dropout can be switched on at inference), and traced (the trace fixed it off)."""
    for p, name in [(0.5, "dropout_scripted.pt"), (0.0, "dropout_zero_scripted.pt"), (0.5, "dropout_traced.pt")]:
        torch.manual_seed(6)
        net = nn.Sequential(nn.Conv3d(1, 8, 3, padding=1), nn.ReLU(), nn.Dropout(p),
                            nn.Conv3d(8, 2, 1)).eval()
        module = torch.jit.trace(net, torch.zeros(1, 1, 8, 8, 8)) if "traced" in name else torch.jit.script(net)
        torch.jit.save(module, os.path.join(HERE, name))


def bundle():
    """A MONAI-bundle-style folder around the local FCN."""
    root = os.path.join(HERE, "bundle")
    os.makedirs(os.path.join(root, "configs"), exist_ok=True)
    os.makedirs(os.path.join(root, "models"), exist_ok=True)
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv3d(4, 4, 3, padding=1),
                        nn.ReLU(), nn.Conv3d(4, 2, 1)).eval()
    torch.jit.save(torch.jit.trace(net, torch.zeros(1, 1, 8, 8, 8)),
                   os.path.join(root, "models", "model.ts"))
    metadata = {
        "version": "0.1.0",
        "name": "test bundle",
        "description": "A MONAI-bundle-shaped folder for tests.",
        "network_data_format": {
            "inputs": {"image": {"type": "image", "num_channels": 1, "spatial_shape": [96, 96, 96],
                                 "channel_def": {"0": "T1"}}},
            "outputs": {"pred": {"type": "image", "num_channels": 2, "spatial_shape": [96, 96, 96],
                                 "channel_def": {"0": "background", "1": "tumour"}}},
        },
    }
    with open(os.path.join(root, "configs", "metadata.json"), "w") as f:
        json.dump(metadata, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    tiny_unet()
    local_fcn()
    wide_fcn()
    many_classes()
    scripted_models()
    toy_models()
    lesion_models()
    dropout_models()
    bundle()
    print("test models written to", HERE)
