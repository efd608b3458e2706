#!/usr/bin/python3
"""Build the model that SegXAI's C++ benchmarks and peer_bench.py share.

A MONAI 3D UNet with seeded random weights (untrained: the benchmarks time
explanation methods, they do not judge explanations), traced to TorchScript,
plus a SegXAI model card, a fixed input and the state dict for the eager copy.

    /usr/bin/python3 tests/bench/peers/make_bench_model.py --out DIR \
        --monai /tmp/peers/monai [--size 64] [--classes 2] [--channels 1]

Writes DIR/model.pt, model.json (model card), input.f32 + input.json,
state_dict.pt and arch.json (the UNet arguments, read by peer_bench.py to
rebuild the eager model).
"""
import argparse
import json
import os
import sys

# The architecture the benchmarks use. INSTANCE norm (affine=False in MONAI's
# default) has no running statistics, so eval and train mode compute the same
# thing and nothing depends on batch composition (BATCH norm in eval mode would
# also do, but instance norm is what MONAI's 3D segmentation tutorials use).
ARCH = {
    "spatial_dims": 3,
    "channels": [16, 32, 64, 128, 256],
    "strides": [2, 2, 2, 2],
    "num_res_units": 2,
    "norm": "INSTANCE",
}

# Grad-CAM layer: the decoder up-block at 1/4 resolution (32 channels, S/4 per
# axis). MONAI's UNet nests as model = Sequential(down, SkipConnection(inner),
# up), so `.submodule.2` is a level's up path; two levels in gives a decoder
# layer that is deep (coarse, semantic) yet not the bottleneck.
DEFAULT_CAM_LAYER = "model.1.submodule.1.submodule.2"


def build_unet(monai_nets, in_channels, out_channels, arch=ARCH):
    """The eager MONAI UNet for `arch` (shared with peer_bench.py)."""
    from monai.networks.layers import Norm
    return monai_nets.UNet(
        spatial_dims=arch["spatial_dims"],
        in_channels=in_channels,
        out_channels=out_channels,
        channels=tuple(arch["channels"]),
        strides=tuple(arch["strides"]),
        num_res_units=arch["num_res_units"],
        norm=getattr(Norm, arch["norm"]),
    )


def make_input(np, channels, size, seed):
    """A smooth bright ball plus a fainter off-centre one, with Gaussian noise:
    some structure for the segmentation to split, deterministic for a seed."""
    rng = np.random.RandomState(seed)
    ax = (np.arange(size, dtype=np.float64) + 0.5) / size - 0.5  # voxel centres in [-0.5, 0.5)
    x, y, z = np.meshgrid(ax, ax, ax, indexing="ij")              # [X][Y][Z]
    volume = np.empty((channels, size, size, size), dtype=np.float64)
    for c in range(channels):
        ball = np.exp(-((x - 0.05 * c) ** 2 + y ** 2 + z ** 2) / (2 * 0.15 ** 2))
        side = 0.5 * np.exp(-((x - 0.25) ** 2 + (y + 0.2) ** 2 + (z - 0.1) ** 2) / (2 * 0.08 ** 2))
        volume[c] = ball + side + 0.1 * rng.standard_normal((size, size, size))
    return volume.astype(np.float32)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--monai", required=True, help="directory holding the `monai` package (MONAI 1.4.0 checkout)")
    p.add_argument("--size", type=int, default=64, help="cube edge S of the input (multiple of 16)")
    p.add_argument("--classes", type=int, default=2, help="output classes K")
    p.add_argument("--channels", type=int, default=1, help="input channels C")
    p.add_argument("--seed", type=int, default=20240601, help="seed of the weights and the input")
    p.add_argument("--cam-layer", default=DEFAULT_CAM_LAYER, help="dotted module path written as the card's cam_layer")
    args = p.parse_args()
    if args.size % 16:
        p.error("--size must be a multiple of 16 (four stride-2 levels)")
    if args.classes < 2:
        p.error("--classes must be at least 2")

    sys.path.insert(0, os.path.abspath(args.monai))
    import numpy as np
    import torch
    import monai
    from monai.networks import nets as monai_nets

    C, K, S = args.channels, args.classes, args.size
    os.makedirs(args.out, exist_ok=True)

    # Default PyTorch initialisation, made deterministic by the seed.
    torch.manual_seed(args.seed)
    model = build_unet(monai_nets, C, K).eval()
    for prm in model.parameters():
        prm.requires_grad_(False)

    x = torch.from_numpy(make_input(np, C, S, args.seed)).unsqueeze(0)  # [1, C, S, S, S]
    with torch.no_grad():
        traced = torch.jit.trace(model, x)
        ref = model(x)
        out = traced(x)
    err = (out - ref).abs().max().item() / max(ref.abs().max().item(), 1e-30)
    if err > 1e-5:
        raise SystemExit(f"traced and eager logits differ (max relative {err:.2e})")

    modules = dict(traced.named_modules())
    if args.cam_layer not in modules:
        raise SystemExit(f"cam_layer {args.cam_layer!r} is not a module of the traced model")

    torch.jit.save(traced, os.path.join(args.out, "model.pt"))
    torch.save(model.state_dict(), os.path.join(args.out, "state_dict.pt"))
    x.numpy().astype("<f4").tofile(os.path.join(args.out, "input.f32"))  # C-order [C][X][Y][Z]
    with open(os.path.join(args.out, "input.json"), "w") as f:
        json.dump({"shape": [1, C, S, S, S]}, f)
        f.write("\n")

    classes = [{"name": "background"}, {"name": "target"}] + [{"name": f"class {k}"} for k in range(2, K)]
    card = {
        "name": f"bench-unet-{S}",
        "description": "MONAI UNet with seeded random (untrained) weights, for peer benchmarks",
        "input_channels": ["image"] if C == 1 else [f"image{c}" for c in range(C)],
        "classes": classes,
        "output": "logits",
        "divisible_by": 16,
        "cam_layer": args.cam_layer,
    }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    arch = dict(ARCH, in_channels=C, out_channels=K, seed=args.seed, monai=monai.__version__,
                torch=torch.__version__)
    with open(os.path.join(args.out, "arch.json"), "w") as f:
        json.dump(arch, f, indent=2)
        f.write("\n")

    fractions = [(ref.argmax(1) == k).float().mean().item() for k in range(K)]
    print(f"wrote {args.out}: UNet {C}->{K} channels, input [1, {C}, {S}, {S}, {S}], "
          f"{sum(p.numel() for p in model.parameters())} parameters, cam_layer {args.cam_layer}; "
          f"argmax class fractions {', '.join(f'{v:.3f}' for v in fractions)}")


if __name__ == "__main__":
    main()
