#!/usr/bin/python3
"""Trains SegXAI's two demo models on synthetic data made from Debian's mricron-data.

    /usr/bin/python3 assets/models/train/train_demo_models.py --segxai build/app/segxai

Training and held-out cases come from one generator, `segxai demo-data` (C++), so what the
models see here is exactly what the viewer and the tests feed them: training seeds 1..N,
held-out seeds from 1,000,000. Working resolution 2 mm. Needs Debian's python3-torch,
python3-nibabel and python3-scipy. Fixed seeds; about 50 minutes on 2 CPU cores.

Writes assets/models/<task>/model.pt (traced TorchScript), model.json (model card) and
training.json (settings, time, held-out Dice), and reference_labels.nii.gz: the labels this
script's own inference gives for held-out case 1000000 at 2 mm, which the C++ tests compare
with `segxai segment`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import nibabel as nib
import numpy as np
import scipy.ndimage as ndi
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from segxai_unet import UNet  # noqa: E402

MODELS = os.path.normpath(os.path.join(HERE, ".."))
HELD_OUT = 1_000_000
DIVISIBLE_BY = 8

TASKS = {
    "lesions": {
        "channels": ["t1", "flair"],
        "classes": [("background", [0, 0, 0]), ("lesion", [255, 70, 40])],
        "cases": 32, "patch": 48, "batch": 4, "steps": 2000, "lesion_focus": 0.6,
        "net": (8, 16, 32, 64), "lr": 3e-3,
        # The skip connection at half resolution: there Seg-Grad-CAM of one lesion concentrates
        # around the lesion (about a third of its mass within 6 mm; deeper layers' maps are
        # diffuse for this model).
        "cam_layer": "model.1",
        "description": "Segments synthetic white-matter lesions on T1 + FLAIR-like MRI. The lesions "
                       "and the FLAIR contrast are synthetic (made from the Colin27 T1 template); "
                       "for demonstration, not for clinical use.",
    },
    "anatomy": {
        "channels": ["t1"],
        "classes": [("background", [0, 0, 0]), ("frontal", [230, 80, 60]), ("limbic", [70, 200, 90]),
                    ("occipital", [80, 120, 255]), ("parietal", [250, 210, 60]),
                    ("deep grey", [60, 220, 220]), ("temporal", [220, 90, 220]),
                    ("cerebellum", [250, 160, 80]), ("white matter", [200, 200, 200])],
        "cases": 20, "patch": 64, "batch": 2, "steps": 900, "lesion_focus": 0.0,
        "net": (8, 16, 32, 64), "lr": 3e-3,
        "cam_layer": "model.1.submodule.1.submodule.2",
        "description": "Segments 8 brain regions (lobes merged from the AAL atlas, deep grey nuclei, "
                       "cerebellum, white matter) on T1 MRI; trained on deformed copies of the Colin27 "
                       "template; for demonstration, not for clinical use.",
    },
}


def load_case(folder, channels):
    images = [nib.load(os.path.join(folder, c + ".nii.gz")) for c in channels]
    x = np.stack([zscore_nonzero(np.asarray(im.get_fdata(dtype=np.float32))) for im in images])
    gt = np.asarray(nib.load(os.path.join(folder, "gt.nii.gz")).get_fdata(dtype=np.float32)).astype(np.int64)
    return x, gt, images[0].affine


def zscore_nonzero(a):
    """The card's normalisation {"kind": "zscore", "nonzero": true}: population statistics
    over non-zero voxels; zeros stay zero."""
    mask = a != 0
    values = a[mask].astype(np.float64)
    mean, std = values.mean(), values.std()
    out = np.zeros_like(a)
    std = std if std > 0 else 1.0  # as MONAI: a zero deviation counts as 1
    out[mask] = ((a[mask] - mean) / std).astype(np.float32)
    return out


def pad_divisible(x):
    """Symmetric zero padding to a multiple of DIVISIBLE_BY (MONAI's DivisiblePad)."""
    pads, slices = [], []
    for size in x.shape[-3:]:
        total = (-size) % DIVISIBLE_BY
        pads.append((total // 2, total - total // 2))
        slices.append(slice(total // 2, total // 2 + size))
    width = [(0, 0)] * (x.ndim - 3) + pads
    return np.pad(x, width), tuple(slices)


def infer(net, x):
    padded, crop = pad_divisible(x)
    with torch.no_grad():
        logits = net(torch.from_numpy(padded[None]))[0].numpy()
    return logits[(slice(None),) + crop].argmax(0)


def dice(a, b):
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else 2.0 * np.logical_and(a, b).sum() / s


# Lesions as in the instance-level MS study: 18-connected components larger than 5 voxels.
EIGHTEEN = ndi.generate_binary_structure(3, 2)
MIN_LESION_VOXELS = 6


def lesion_detection(pred, gt):
    components, n = ndi.label(gt, structure=EIGHTEEN)
    sizes = ndi.sum(gt, components, range(1, n + 1))
    lesions = [c for c, size in zip(range(1, n + 1), sizes) if size >= MIN_LESION_VOXELS]
    if not lesions:
        return 1.0
    return sum(1 for c in lesions if pred[components == c].any()) / len(lesions)


def evaluate_study_grid(task, segxai, model_dir, work, classes):
    """Held-out cases in their own 1 mm grid, segmented by `segxai segment`: the product's
    own path (resampling to 2 mm, inference, probabilities mapped back)."""
    folder = os.path.join(work, "held_out_1mm")
    subprocess.run([segxai, "demo-data", folder, "--task", task, "--cases", "4",
                    "--first-seed", str(HELD_OUT)], check=True)
    metrics = []
    for seed in range(HELD_OUT, HELD_OUT + 4):
        case = os.path.join(folder, task, "case_%07d" % seed)
        studies = []
        for channel in TASKS[task]["channels"]:
            studies += ["--study", os.path.join(case, channel + ".nii.gz")]
        out = os.path.join(case, "segxai.nii.gz")
        subprocess.run([segxai, "segment", *studies, "--model", model_dir, "--out", out], check=True)
        pred = np.asarray(nib.load(out).dataobj).astype(np.int64)
        gt = np.asarray(nib.load(os.path.join(case, "gt.nii.gz")).dataobj).astype(np.int64)
        m = {"seed": seed}
        if task == "lesions":
            m["lesion_dice"] = float(dice(pred == 1, gt == 1))
            m["lesion_detection"] = float(lesion_detection(pred == 1, gt == 1))
        else:
            m["class_dice"] = [float(dice(pred == c, gt == c)) for c in range(1, classes)]
            m["mean_dice"] = float(np.mean(m["class_dice"]))
        metrics.append(m)
        print(task, "1 mm", m, flush=True)
    return metrics


def sample_patch(x, gt, size, focus, rng):
    shape = np.array(gt.shape)
    if focus > 0 and rng.random() < focus and gt.any():
        voxels = np.argwhere(gt > 0)
        centre = voxels[rng.integers(len(voxels))] + rng.integers(-size // 4, size // 4 + 1, 3)
    else:
        centre = np.array([rng.integers(size // 4, max(size // 4 + 1, s - size // 4)) for s in shape])
    start = np.clip(centre - size // 2, 0, np.maximum(shape - size, 0))
    sl = tuple(slice(int(s), int(s) + size) for s in start)
    xp, gp = x[(slice(None),) + sl], gt[sl]
    pad = [(0, size - d) for d in gp.shape]
    return np.pad(xp, [(0, 0)] + pad), np.pad(gp, pad)


def dice_ce_loss(logits, target, classes):
    ce = F.cross_entropy(logits, target)
    probs = logits.softmax(1)
    onehot = F.one_hot(target, classes).permute(0, 4, 1, 2, 3).float()
    inter = (probs * onehot).sum((0, 2, 3, 4))
    denom = probs.sum((0, 2, 3, 4)) + onehot.sum((0, 2, 3, 4))
    soft_dice = (2 * inter + 1) / (denom + 1)
    return ce + (1 - soft_dice[1:]).mean()


def train(task, segxai, work, quick):
    spec = TASKS[task]
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    cases = 3 if quick else spec["cases"]
    steps = 20 if quick else spec["steps"]
    data_dir = os.path.join(work, task)
    subprocess.run([segxai, "demo-data", work, "--task", task, "--cases", str(cases),
                    "--first-seed", "1", "--spacing", "2"], check=True)
    held_dir = os.path.join(work, "held_out")
    subprocess.run([segxai, "demo-data", held_dir, "--task", task, "--cases", "4",
                    "--first-seed", str(HELD_OUT), "--spacing", "2"], check=True)
    train_set = [load_case(os.path.join(data_dir, "case_%07d" % s), spec["channels"])
                 for s in range(1, cases + 1)]
    held_out = [(s, load_case(os.path.join(held_dir, task, "case_%07d" % s), spec["channels"]))
                for s in range(HELD_OUT, HELD_OUT + 4)]

    classes = len(spec["classes"])
    net = UNet(len(spec["channels"]), classes, channels=spec["net"], strides=(2, 2, 2), norm="batch")
    optimiser = torch.optim.Adam(net.parameters(), lr=spec["lr"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=spec["lr"], total_steps=steps,
                                                   pct_start=0.1)
    start = time.time()
    net.train()
    for step in range(steps):
        xs, gs = [], []
        for _ in range(spec["batch"]):
            x, gt, _ = train_set[rng.integers(len(train_set))]
            xp, gp = sample_patch(x, gt, spec["patch"], spec["lesion_focus"], rng)
            xs.append(xp)
            gs.append(gp)
        logits = net(torch.from_numpy(np.stack(xs)))
        loss = dice_ce_loss(logits, torch.from_numpy(np.stack(gs)), classes)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"{task} step {step}/{steps} loss {loss.item():.4f} "
                  f"{time.time() - start:.0f}s", flush=True)
    seconds = time.time() - start
    net.eval()

    metrics = []
    for seed, (x, gt, _) in held_out:
        pred = infer(net, x)
        m = {"seed": seed}
        if task == "lesions":
            m["lesion_dice"] = float(dice(pred == 1, gt == 1))
            m["lesion_detection"] = float(lesion_detection(pred == 1, gt == 1))
        else:
            per_class = [float(dice(pred == c, gt == c)) for c in range(1, classes)]
            m["class_dice"] = per_class
            m["mean_dice"] = float(np.mean(per_class))
        metrics.append(m)
        print(task, m, flush=True)

    out = os.path.join(MODELS, task)
    os.makedirs(out, exist_ok=True)
    example = torch.zeros(1, len(spec["channels"]), 96, 112, 96)
    traced = torch.jit.trace(net, example)
    torch.jit.save(traced, os.path.join(out, "model.pt"))
    card = {
        "name": f"SegXAI {task} demo",
        "description": spec["description"],
        "input_channels": spec["channels"],
        "classes": [{"name": n, "color": c} for n, c in spec["classes"]],
        "spacing_mm": 2.0,
        "normalization": {"kind": "zscore", "nonzero": True},
        "divisible_by": DIVISIBLE_BY,
        "cam_layer": spec["cam_layer"],
        "output": "logits",
        "synthetic_data": True,
    }
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")

    # Reference labels of this script's inference, for the C++ equality test.
    x, gt, affine = held_out[0][1]
    reference = infer(traced, x).astype(np.uint8)
    nib.save(nib.Nifti1Image(reference, affine), os.path.join(out, "reference_labels.nii.gz"))

    study_grid = evaluate_study_grid(task, segxai, out, work, classes)
    summary = {
        "task": task, "training_cases": cases, "steps": steps, "patch": spec["patch"],
        "batch": spec["batch"], "network_channels": spec["net"], "training_seconds": round(seconds),
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "held_out_2mm": metrics, "held_out_1mm": study_grid,
    }
    for grid, rows in (("2mm", metrics), ("1mm", study_grid)):
        if task == "lesions":
            summary["mean_lesion_dice_" + grid] = float(np.mean([m["lesion_dice"] for m in rows]))
            summary["mean_lesion_detection_" + grid] = float(np.mean([m["lesion_detection"] for m in rows]))
        else:
            summary["mean_dice_" + grid] = float(np.mean([m["mean_dice"] for m in rows]))
    with open(os.path.join(out, "training.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(json.dumps(summary, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segxai", required=True, help="path to the built segxai binary")
    parser.add_argument("--task", choices=["lesions", "anatomy", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="a few steps only (checks the pipeline)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="only re-measure the shipped models on held-out 1 mm studies")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as work:
        for task in (["lesions", "anatomy"] if args.task == "both" else [args.task]):
            if args.evaluate_only:
                out = os.path.join(MODELS, task)
                rows = evaluate_study_grid(task, os.path.abspath(args.segxai), out, work, len(TASKS[task]["classes"]))
                path = os.path.join(out, "training.json")
                summary = json.load(open(path))
                summary["held_out_1mm"] = rows
                key = "mean_lesion_dice_1mm" if task == "lesions" else "mean_dice_1mm"
                if task == "lesions":
                    summary["mean_lesion_dice_1mm"] = float(np.mean([m["lesion_dice"] for m in rows]))
                    summary["mean_lesion_detection_1mm"] = float(np.mean([m["lesion_detection"] for m in rows]))
                else:
                    summary[key] = float(np.mean([m["mean_dice"] for m in rows]))
                with open(path, "w") as f:
                    json.dump(summary, f, indent=2)
                    f.write("\n")
                continue
            train(task, os.path.abspath(args.segxai), work, args.quick)


if __name__ == "__main__":
    main()
