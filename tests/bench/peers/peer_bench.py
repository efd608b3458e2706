#!/usr/bin/python3
"""Peer benchmarks for SegXAI's explanation methods, in one run.

Times, on the model/input written by make_bench_model.py and at a fixed thread
count: the floor (one forward + backward in PyTorch, TorchScript and eager),
Captum's Saliency, SmoothGrad (NoiseTunnel) and Integrated Gradients,
pytorch-grad-cam's GradCAM, and a SmoothGrad sample-count/accuracy curve.

    /usr/bin/python3 tests/bench/peers/peer_bench.py --model DIR --threads 2 \
        --repeats 5 --captum /tmp/peers/captum --gradcam /tmp/peers/gradcam \
        --monai /tmp/peers/monai --json OUT.json [--what floor,saliency,...]

Every attribution explains one scalar per batch item: the target class's logit
summed over the voxels whose argmax is that class (mask taken once, from the
unperturbed input). Times are medians of --repeats calls after --warmup calls.
"""
import argparse
import json
import os
import statistics
import sys
import time
import types
import warnings

import torch

# Captum notes, on every call, that it made the input require grad; it is meant to.
warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")

ALL_WHAT = ["floor", "saliency", "smoothgrad", "ig", "gradcam", "smoothgrad-curve"]
FLOOR_BATCHES = [1, 8, 16]
CURVE_SAMPLES = [4, 8, 16, 32, 64, 128]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="directory written by make_bench_model.py")
    p.add_argument("--threads", type=int, required=True, help="intra-op threads (torch.set_num_threads)")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (median reported)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls before each measurement")
    p.add_argument("--captum", required=True, help="directory holding the `captum` package")
    p.add_argument("--gradcam", required=True, help="directory holding the `pytorch_grad_cam` package")
    p.add_argument("--monai", required=True, help="directory holding the `monai` package")
    p.add_argument("--what", default=",".join(ALL_WHAT), help="comma list of " + ",".join(ALL_WHAT))
    p.add_argument("--json", required=True, help="where to write the results")
    p.add_argument("--target-class", type=int, default=1, help="class explained (default 1, 'target')")
    p.add_argument("--captum-model", choices=["torchscript", "eager"], default="torchscript",
                   help="model Captum differentiates (default: the TorchScript file SegXAI loads)")
    p.add_argument("--reference-samples", type=int, default=256, help="SmoothGrad reference samples")
    p.add_argument("--reference-seed", type=int, default=1234567, help="torch seed of the reference's noise")
    p.add_argument("--curve-seed", type=int, default=7, help="torch seed of the curve's noise (plus n)")
    args = p.parse_args()
    args.what = [w.strip() for w in args.what.split(",") if w.strip()]
    unknown = set(args.what) - set(ALL_WHAT)
    if unknown:
        p.error(f"unknown --what {sorted(unknown)}; choose from {ALL_WHAT}")
    return args


def peer_commit(path):
    """The commit a peer checkout was extracted from (COMMIT file of extract_peers.sh), or its git HEAD."""
    try:
        with open(os.path.join(path, "COMMIT")) as f:
            return f.read().strip()
    except OSError:
        pass
    import subprocess
    try:
        return subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class _Unavailable:
    """Stands in for anything taken from a stubbed module: fine to import and to keep
    (e.g. as a default argument), an error the moment it is used."""

    def __init__(self, name):
        self._name = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self._name} was stubbed by peer_bench.py and must not be used")

    def __getattr__(self, attr):
        return _Unavailable(f"{self._name}.{attr}")


def stub_missing_modules(names):
    """Installs a raising stub for each module in `names` (parents before children) that
    cannot be imported. Returns the names stubbed. Only for modules the measured code
    path never uses."""
    def module_getattr(module_name):
        def getattr_(attr):
            if attr.startswith("__"):  # __path__, __spec__, ...: let the import machinery see a plain module
                raise AttributeError(attr)
            return _Unavailable(f"{module_name}.{attr}")
        return getattr_

    stubbed = []
    for name in names:
        parent, _, leaf = name.rpartition(".")
        if not (parent and parent in stubbed):
            try:
                __import__(name)
                continue
            except ImportError:
                pass
        module = types.ModuleType(name)
        module.__getattr__ = module_getattr(name)
        sys.modules[name] = module
        if parent:
            setattr(sys.modules[parent], leaf, module)
        stubbed.append(name)
    return stubbed


def import_gradcam(path):
    """Imports pytorch-grad-cam, stubbing the image-utility dependencies it imports at module
    level but never calls for a 3D GradCAM:
      ttach        test-time augmentation: BaseCAM.__init__ builds (but with aug_smooth=False never
                   applies) a ttach.Compose; not packaged in Debian 12;
      cv2          2D cv2.resize and colour maps; 3D CAMs are resized by scipy.ndimage.zoom;
      torchvision  transforms for 2D image preprocessing and the Faster R-CNN target.
    Debian's python3-opencv / python3-torchvision are used instead when installed; ttach is
    always stubbed. The stubs raise if anything in them is called."""
    stubbed = stub_missing_modules(["cv2", "torchvision", "torchvision.transforms"])
    try:
        import ttach  # noqa: F401
    except ImportError:
        tta = types.ModuleType("ttach")

        class _NoTTA:  # constructed in BaseCAM.__init__; any use is an error
            def __init__(self, *args, **kwargs):
                pass

            def __iter__(self):
                raise RuntimeError("ttach was stubbed by peer_bench.py: aug_smooth is not supported")

        tta.Compose = tta.HorizontalFlip = tta.Multiply = _NoTTA
        sys.modules["ttach"] = tta
        stubbed.append("ttach")
    sys.path.insert(0, os.path.abspath(path))
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import SemanticSegmentationTarget
    return GradCAM, SemanticSegmentationTarget, stubbed


def timed(fn, repeats, warmup):
    """Median wall seconds of `repeats` calls after `warmup` calls, and all the timed samples."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def rel_diff(a, b):
    """max |a - b| / max |b|."""
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)


def pearson(a, b):
    import numpy as np
    a = a.detach().double().flatten().numpy()
    b = b.detach().double().flatten().numpy()
    return float(np.corrcoef(a, b)[0, 1])


def main():
    args = parse_args()
    # Thread counts first: set_num_interop_threads fails once any inter-op work has run.
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    import numpy as np
    sys.path.insert(0, os.path.abspath(args.captum))
    sys.path.insert(0, os.path.abspath(args.monai))
    import captum
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency
    from monai.networks import nets as monai_nets
    GradCAM, SemanticSegmentationTarget, stubbed = import_gradcam(args.gradcam)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_bench_model import build_unet

    # --- models and input ---------------------------------------------------------------
    with open(os.path.join(args.model, "arch.json")) as f:
        arch = json.load(f)
    with open(os.path.join(args.model, "model.json")) as f:
        card = json.load(f)
    with open(os.path.join(args.model, "input.json")) as f:
        shape = json.load(f)["shape"]
    scripted = torch.jit.load(os.path.join(args.model, "model.pt")).eval()
    eager = build_unet(monai_nets, arch["in_channels"], arch["out_channels"], arch).eval()
    eager.load_state_dict(torch.load(os.path.join(args.model, "state_dict.pt")))
    for model in (scripted, eager):
        for prm in model.parameters():
            prm.requires_grad_(False)
    x = torch.from_numpy(np.fromfile(os.path.join(args.model, "input.f32"), dtype="<f4").reshape(shape))
    t = args.target_class
    models = {"torchscript": scripted, "eager": eager}

    with torch.no_grad():
        logits = scripted(x)
        logits_eager = eager(x)
    mask = (logits.argmax(1)[0] == t).to(x.dtype)  # [X, Y, Z], fixed for every method
    checks = {"logits_rel_diff_torchscript_vs_eager": rel_diff(logits_eager, logits),
              "mask_fraction": mask.mean().item()}

    def score_fn(model):
        """Per batch item: the target class's logit summed over the mask -> [B]."""
        def score(inp):
            return (model(inp)[:, t] * mask).sum(dim=(1, 2, 3))
        return score

    def input_gradient(model, xb):
        (grad,) = torch.autograd.grad(score_fn(model)(xb).sum(), xb)
        return grad

    cmodel = models[args.captum_model]
    stdev = float(0.1 * (x.max() - x.min()))  # Captum takes one sigma per input tensor (SegXAI: per channel)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()} (inter-op {torch.get_num_interop_threads()}), "
          f"input {shape}, class {t} ({card['classes'][t]['name']}) on {100 * checks['mask_fraction']:.1f}% of voxels, "
          f"{args.repeats} repeats after {args.warmup} warm-up")
    print(f"captum {captum.__version__} {peer_commit(args.captum)[:12]}, "
          f"pytorch-grad-cam {peer_commit(args.gradcam)[:12]}, monai {peer_commit(args.monai)[:12]}; "
          f"stubbed: {', '.join(stubbed) or 'nothing'}")
    failed = []

    def check(key, what, tolerance=1e-5):
        ok = checks[key] <= tolerance
        if not ok:
            failed.append(key)
        print(f"check: {what}: {checks[key]:.2e} ({'ok' if ok else 'FAIL'} at {tolerance:g})")

    check("logits_rel_diff_torchscript_vs_eager", "TorchScript vs eager logits, max rel diff")

    result = {
        "threads": args.threads,
        "torch": torch.__version__,
        "captum": peer_commit(args.captum),
        "gradcam": peer_commit(args.gradcam),
        "monai": peer_commit(args.monai),
        "input_shape": shape,
        "target_class": t,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "captum_model": args.captum_model,
        "stubbed_modules": stubbed,
        "checks": checks,  # filled in as the run goes
        "samples": {},  # every timed sample, for spotting noise
    }
    rows = []  # (what, seconds, per-sample seconds or None, note)

    # --- floor: forward + backward of a batch --------------------------------------------
    if "floor" in args.what or "saliency" in args.what:
        grads = {name: input_gradient(model, x.clone().requires_grad_(True)) for name, model in models.items()}
        floor_grad = grads[args.captum_model]
        checks["grad_rel_diff_torchscript_vs_eager"] = rel_diff(grads["eager"], grads["torchscript"])
        check("grad_rel_diff_torchscript_vs_eager", "TorchScript vs eager input gradient, max rel diff")
    if "floor" in args.what:
        result["floor"], result["floor_per_sample"] = {}, {}
        for name, model in models.items():
            result["floor"][name], result["floor_per_sample"][name] = {}, {}
            for b in FLOOR_BATCHES:
                xb = x.expand(b, *shape[1:]).clone().requires_grad_(True)
                s, samples = timed(lambda: input_gradient(model, xb), args.repeats, args.warmup)
                del xb
                result["floor"][name][str(b)] = s
                result["floor_per_sample"][name][str(b)] = s / b
                result["samples"][f"floor/{name}/{b}"] = samples
                rows.append((f"floor {name} B={b}", s, s / b, "forward + backward"))

    # --- Captum ----------------------------------------------------------------------------
    if "saliency" in args.what:
        saliency = Saliency(score_fn(cmodel))
        sal_map = saliency.attribute(x.clone(), abs=False)
        checks["saliency_rel_diff_vs_floor_grad"] = rel_diff(sal_map, floor_grad)
        check("saliency_rel_diff_vs_floor_grad", f"Captum Saliency vs floor gradient ({args.captum_model}), max rel diff")
        s, result["samples"]["saliency"] = timed(lambda: saliency.attribute(x.clone(), abs=False),
                                                 args.repeats, args.warmup)
        result["saliency"] = s
        rows.append(("captum Saliency", s, s, "abs=False"))

    if "smoothgrad" in args.what:
        nt = NoiseTunnel(Saliency(score_fn(cmodel)))
        s, result["samples"]["smoothgrad"] = timed(
            lambda: nt.attribute(x.clone(), nt_type="smoothgrad", nt_samples=8, nt_samples_batch_size=8,
                                 stdevs=stdev, abs=False), args.repeats, args.warmup)
        result["smoothgrad"] = s
        rows.append(("captum NoiseTunnel(Saliency)", s, s / 8, "smoothgrad, 8 samples in 1 batch"))

    if "ig" in args.what:
        ig = IntegratedGradients(score_fn(cmodel))
        s, result["samples"]["ig"] = timed(
            lambda: ig.attribute(x.clone(), baselines=torch.zeros_like(x), n_steps=16, method="riemann_right",
                                 internal_batch_size=16), args.repeats, args.warmup)
        result["ig"] = s
        rows.append(("captum IntegratedGradients", s, s / 16, "16 steps riemann_right, 1 batch, zero baseline"))

    # --- pytorch-grad-cam ----------------------------------------------------------------
    if "gradcam" in args.what:
        layer = eager.get_submodule(card["cam_layer"])
        mask_np = mask.numpy()
        cam_object = GradCAM(model=eager, target_layers=[layer])
        # With frozen parameters a plain input has nothing to differentiate and
        # GradCAM's loss.backward() fails, so the input requires grad: the backward then
        # does what the floor's does (input gradient, no weight gradients).
        x_cam = x.clone().requires_grad_(True)

        def run_cam():
            return cam_object(input_tensor=x_cam, targets=[SemanticSegmentationTarget(t, mask_np)])

        cam = run_cam()
        checks.update(check_gradcam(cam, cam_object, card["cam_layer"], shape))
        print(f"check: GradCAM map {list(cam.shape)} from 5D activations {checks['gradcam_activation_shape']}")
        check("gradcam_abs_diff_vs_own", "GradCAM vs own Grad-CAM (gradient mean over 3 axes, cubic zoom), max abs diff of maps in [0, 1]")
        s, result["samples"]["gradcam"] = timed(run_cam, args.repeats, args.warmup)
        result["gradcam"] = s
        rows.append(("grad-cam GradCAM", s, s, f"layer {card['cam_layer']}, frozen weights"))
        # Of which: the library's resize of the coarse CAM to the input grid (scipy cubic zoom),
        # to tell its CPU-side post-processing from the forward + backward.
        from pytorch_grad_cam.utils.image import scale_cam_image
        coarse = np.random.RandomState(0).rand(1, *checks["gradcam_activation_shape"][2:]).astype(np.float32)
        s, result["samples"]["gradcam_upsample"] = timed(
            lambda: scale_cam_image(coarse, cam_object.get_target_width_height(x)), args.repeats, args.warmup)
        result["gradcam_upsample"] = s
        rows.append(("  of which: CAM upsampling", s, s, "pytorch_grad_cam scale_cam_image (scipy zoom, cubic)"))

        # As a user with a freshly loaded (unfrozen) model would run it: the backward also
        # computes every weight gradient. Reported separately; not part of the ratios.
        for prm in eager.parameters():
            prm.requires_grad_(True)
        x_cam = x.clone()
        s, result["samples"]["gradcam_weight_grads"] = timed(run_cam, args.repeats, args.warmup)
        for prm in eager.parameters():
            prm.requires_grad_(False)
            prm.grad = None
        result["gradcam_weight_grads"] = s
        rows.append(("grad-cam GradCAM, weights need grad", s, s, "backward also computes weight gradients"))
        cam_object.activations_and_grads.release()

    # --- SmoothGrad: samples against agreement with a 256-sample reference ----------------
    if "smoothgrad-curve" in args.what:
        nt = NoiseTunnel(Saliency(score_fn(cmodel)))

        def smoothgrad(n, seed):
            torch.manual_seed(seed)
            start = time.perf_counter()
            out = nt.attribute(x.clone(), nt_type="smoothgrad", nt_samples=n, nt_samples_batch_size=min(n, 8),
                               stdevs=stdev, abs=False)
            return out, time.perf_counter() - start

        reference, ref_seconds = smoothgrad(args.reference_samples, args.reference_seed)
        reference.detach().numpy().astype("<f4").tofile(os.path.join(args.model, "smoothgrad_reference.f32"))
        with open(os.path.join(args.model, "smoothgrad_reference.json"), "w") as f:
            json.dump({"shape": list(reference.shape), "samples": args.reference_samples,
                       "seed": args.reference_seed, "stdev": stdev, "noise": "torch.normal (Captum NoiseTunnel)",
                       "abs": False, "target_class": t, "model": args.captum_model}, f)
            f.write("\n")
        result["smoothgrad_reference_seconds"] = ref_seconds
        rows.append((f"smoothgrad reference n={args.reference_samples}", ref_seconds, ref_seconds /
                     args.reference_samples, "written as smoothgrad_reference.f32"))
        curve = []
        for n in CURVE_SAMPLES:
            # Noise independent of the reference's (another seed), so r is not inflated.
            out, seconds = smoothgrad(n, args.curve_seed + n)
            r = pearson(out[0, 0], reference[0, 0])
            curve.append([n, seconds, r])
            rows.append((f"smoothgrad n={n}", seconds, seconds / n, f"r = {r:.4f} vs reference (1 run)"))
        result["smoothgrad_curve"] = curve
        reached = [(n, s) for n, s, r in curve if r >= 0.95]
        result["smoothgrad_r95"] = {"n": reached[0][0], "seconds": reached[0][1]} if reached else None

    # --- report -----------------------------------------------------------------------------
    floor1 = result.get("floor", {}).get(args.captum_model, {}).get("1")
    print()
    print(f"{'what':40s} {'seconds':>10s} {'per sample':>11s} {'x floor B=1':>12s}  note")
    for what, s, per, note in rows:
        ratio = f"{s / floor1:12.2f}" if floor1 else f"{'':12s}"
        per_text = f"{per:11.4f}" if per is not None else f"{'':11s}"
        print(f"{what:40s} {s:10.4f} {per_text} {ratio}  {note}")
    if "smoothgrad_r95" in result:
        r95 = result["smoothgrad_r95"]
        print("smallest SmoothGrad n with r >= 0.95: " +
              (f"{r95['n']} ({r95['seconds']:.3f} s)" if r95 else f"none up to {CURVE_SAMPLES[-1]}"))
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"wrote {args.json}")
    if failed:
        raise SystemExit(f"checks failed: {', '.join(failed)}")


def check_gradcam(cam, cam_object, layer_name, shape):
    """Recomputes Grad-CAM from the activations and gradients the library captured,
    the textbook way (channel weights = gradient mean over all three spatial axes),
    and compares it with the library's map: shows its 5D path is what it claims."""
    import numpy as np
    from scipy.ndimage import zoom
    acts = cam_object.activations_and_grads.activations[0].numpy()[0]  # [C, x, y, z]
    grads = cam_object.activations_and_grads.gradients[0].numpy()[0]
    weights = grads.mean(axis=(1, 2, 3))
    own = np.maximum((weights[:, None, None, None] * acts).sum(axis=0), 0)
    own = (own - own.min()) / (1e-7 + own.max() - own.min())
    own = zoom(own.astype(np.float32), [s / a for s, a in zip(shape[2:], own.shape)])  # cubic, as the library
    own = np.maximum(own, 0)  # the library clips the cubic spline's undershoot before renormalising
    own = (own - own.min()) / (1e-7 + own.max() - own.min())
    if cam.shape[1:] != own.shape:
        raise SystemExit(f"GradCAM returned {cam.shape}, expected [1, {own.shape}]")
    return {"gradcam_layer": layer_name, "gradcam_activation_shape": [1] + list(acts.shape),
            "gradcam_abs_diff_vs_own": float(np.abs(cam[0] - own).max())}


if __name__ == "__main__":
    main()
