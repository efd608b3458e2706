#!/usr/bin/python3
"""Trains the lesion demo as a real nnU-Net v2 trained-model folder with 3 folds.

    /usr/bin/python3 assets/models/train/train_nnunet_lesions.py --segxai /path/to/segxai \\
        --nnunet /tmp/wt/nnUNet --dna /tmp/wt/dynamic-network-architectures \\
        --extra /tmp/wt/batchgenerators --extra /tmp/wt/acvl_utils

Writes assets/models/lesions_nnunet/Dataset950_SegXAILesions/nnUNetTrainer__nnUNetPlans__3d_fullres/
{dataset.json, plans.json, fold_0..2/checkpoint_final.pth} and assets/models/lesions_nnunet/training.json
(settings, training times and losses, the nnU-Net/SegXAI agreement check, held-out figures).

Data: `segxai demo-data` (C++) at 1 mm, the grid users load: training seeds 1..N (--cases), held-out
seeds 1000000..1000003 (never trained on). The lesions and the FLAIR contrast are synthetic.

What is nnU-Net's own code here (imported from the checkouts given on the command line, never copied):
PlansManager/ConfigurationManager, DefaultPreprocessor.run_case (NibabelIO, crop to non-zero, ZScore
normalisation, third-order resampling to 2 mm) for every training case, so training sees exactly what
nnU-Net's inference feeds the network; nnUNetTrainer.build_network_architecture (the genuine
dynamic_network_architectures PlainConvUNet); nnU-Net's loss (DC_and_CE_loss with
MemoryEfficientSoftDiceLoss, DeepSupervisionWrapper with nnU-Net's weights); and, for the check,
nnUNetPredictor.initialize_from_trained_model_folder + predict_from_files_sequential (predict_from_files
without worker processes). The training loop itself is this script's (nnUNetTrainer needs a blosc2 dataset
and batchgeneratorsv2, which Debian lacks): Adam + poly learning rate instead of SGD, nnU-Net's
foreground oversampling, mirroring on all three axes and nnU-Net's intensity augmentations (noise,
multiplicative brightness, contrast, gamma); no spatial augmentation (the generator already deforms every
case). The checkpoint dict is nnUNetTrainer.save_checkpoint's, key by key, with real losses, learning rates,
timestamps and the pseudo Dice of fixed validation patches of the fold's held-back cases in `logging`.

Plans (chosen for 2 shared CPU cores): 3d_fullres, spacing 2 mm isotropic, PlainConvUNet with 4 stages of
8-16-32-64 features, 2 convolutions per stage (encoder and decoder), strides 1,2,2,2, InstanceNorm + LeakyReLU,
deep supervision in training only (off at inference, as nnU-Net's predictor builds it). Patch = the whole
preprocessed head (90 x 108 x 90 voxels at 2 mm, patch 96 x 112 x 96, the median shape rounded up to a multiple
of 8, which is what nnU-Net's planner starts from and keeps when the network fits), batch 1: one sliding window
per pass, so `segxai segment` takes seconds per fold and pass (48^3 patches would need 36 windows of about 1.4 s
each on this CPU, some 50 s per pass and 20 min for the mirrored 3-fold ensemble). ZScoreNormalization per
channel with use_mask_for_norm false: the planner's rule (a mask only if cropping to the non-zero box leaves
less than 3/4 of the image) gives false here, because the generator's images have no exact zeros (a faint noise
floor everywhere), so crop_to_nonzero keeps the whole image (relative size 1.0; training.json records it).

Sources (not part of this repository): MIC-DKFZ/nnUNet 0e495086eb108ff79afe106291e8c15bd2f2bc3a (v2.8.1),
MIC-DKFZ/dynamic-network-architectures d35f85c7b92cbf3e9443b412fdc7c81f8e2e7b12, batchgenerators
9dc3d49b68ea11e0f37c14d5b75658d9eb364a5e, acvl_utils e70301e7fc916f87558ad69272f606077aef856d; Debian 12's
python3-torch (1.13), numpy, scipy, nibabel, scikit-image and the packages listed in tests/data/nnunet/README.md.
Optional imports that nnU-Net makes but never uses here are stubbed as in tests/data/nnunet/make_nnunet_folders.py.

Fixed seeds (data seeds, fold k trains with seed 1000 + k). Time on 2 shared CPU cores: see training.json
(`*_seconds`): about 5 min to generate and preprocess, 45 min to train the 3 folds (a 15-min budget per
fold), about 20 min for the nnU-Net check, the held-out evaluation through `segxai segment` (4 studies x
(3 folds + ensemble) x mirroring on/off) and one `segxai explain`. Training is seeded but not bit-reproducible across machines.
`--quick` runs the whole pipeline on a few cases and steps and writes to --out (a scratch folder).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from copy import deepcopy

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'data', 'nnunet'))
from make_nnunet_folders import _install_stubs, save_json  # noqa: E402

DATASET = 'Dataset950_SegXAILesions'
TRAINER, PLANS, CONFIGURATION = 'nnUNetTrainer', 'nnUNetPlans', '3d_fullres'
HELD_OUT = 1_000_000
CHANNELS = ['t1', 'flair']

SETTINGS = {
    'cases': 30,              # training cases (seeds 1..30); fold k holds back cases i with i % 3 == k
    'folds': 3,
    'crop_steps': 600,        # per fold, at most: lesion-focused crops of crop_patch, batch crop_batch
    'crop_patch': [48, 48, 48], 'crop_batch': 2, 'crop_share': 0.7,
    'whole_steps': 60,        # then whole-image patches (the plans' patch), batch 1
    # wall-time budget of a fold (0: none). The poly schedule runs on progress = max(step / steps, time / budget),
    # so a fold on a busy machine ends early with its learning rate decayed; training.json gives the steps done.
    # For a run of fixed length (exactly reproducible given the machine), pass --max-fold-seconds 0.
    'max_fold_seconds': 900,
    'steps_per_epoch': 100,   # one "epoch" of the checkpoint's logging
    'batch': 1,
    'patch': None,            # the median preprocessed image shape rounded up to a multiple of 8, as the planner
    'spacing': [2.0, 2.0, 2.0],
    'features': [8, 16, 32, 64],
    'lr': 3e-3, 'warmup': 10, 'weight_decay': 3e-5,
    'foreground_fraction': 0.5,  # crops centred on a lesion voxel (nnU-Net: 1/3)
    'validation_patches': 1,  # a whole held-back image: the logged Dice is its Dice at 2 mm
    'seed_base': 1000,
}


def arch(features):
    n = len(features)
    return {
        'network_class_name': 'dynamic_network_architectures.architectures.unet.PlainConvUNet',
        'arch_kwargs': {
            'n_stages': n,
            'features_per_stage': features,
            'conv_op': 'torch.nn.modules.conv.Conv3d',
            'kernel_sizes': [[3, 3, 3]] * n,
            'strides': [[1, 1, 1]] + [[2, 2, 2]] * (n - 1),
            'n_conv_per_stage': [2] * n,
            'n_conv_per_stage_decoder': [2] * (n - 1),
            'conv_bias': True,
            'norm_op': 'torch.nn.modules.instancenorm.InstanceNorm3d',
            'norm_op_kwargs': {'eps': 1e-05, 'affine': True},
            'dropout_op': None,
            'dropout_op_kwargs': None,
            'nonlin': 'torch.nn.LeakyReLU',
            'nonlin_kwargs': {'inplace': True},
        },
        '_kw_requires_import': ['conv_op', 'norm_op', 'dropout_op', 'nonlin'],
    }


def make_dataset_json(n_training):
    return {
        'channel_names': {'0': 't1', '1': 'flair'},
        'labels': {'background': 0, 'lesion': 1},
        'numTraining': n_training,
        'file_ending': '.nii.gz',
        'name': 'SegXAILesions',
        'description': 'SegXAI lesion demo: synthetic white-matter lesions on T1 + a FLAIR-like contrast made from '
                       'the Colin27 T1 template (Debian mricron-data) by `segxai demo-data`. The lesions and the '
                       'FLAIR contrast are synthetic; for demonstration, not for clinical use. Trained by '
                       'assets/models/train/train_nnunet_lesions.py.',
        'reference': 'SegXAI assets/models/lesions_nnunet/README.md',
        'licence': 'synthetic data',
    }


def make_plans(s, intensity_props, median_shape_1mm, median_shape_2mm):
    cfg = {
        'data_identifier': PLANS + '_' + CONFIGURATION,
        'preprocessor_name': 'DefaultPreprocessor',
        'batch_size': s['batch'],
        'patch_size': s['patch'],
        'median_image_size_in_voxels': [float(i) for i in median_shape_2mm],
        'spacing': s['spacing'],
        'normalization_schemes': ['ZScoreNormalization', 'ZScoreNormalization'],
        'use_mask_for_norm': [False, False],
        'resampling_fn_data': 'resample_data_or_seg_to_shape',
        'resampling_fn_seg': 'resample_data_or_seg_to_shape',
        'resampling_fn_data_kwargs': {'is_seg': False, 'order': 3, 'order_z': 0, 'force_separate_z': None},
        'resampling_fn_seg_kwargs': {'is_seg': True, 'order': 1, 'order_z': 0, 'force_separate_z': None},
        'resampling_fn_probabilities': 'resample_data_or_seg_to_shape',
        'resampling_fn_probabilities_kwargs': {'is_seg': False, 'order': 1, 'order_z': 0,
                                               'force_separate_z': None},
        'architecture': arch(s['features']),
        'batch_dice': True,
    }
    return {
        'dataset_name': DATASET,
        'plans_name': PLANS,
        'original_median_spacing_after_transp': [1.0, 1.0, 1.0],
        'original_median_shape_after_transp': [int(i) for i in median_shape_1mm],
        'image_reader_writer': 'NibabelIO',
        'transpose_forward': [0, 1, 2],
        'transpose_backward': [0, 1, 2],
        'configurations': {CONFIGURATION: cfg},
        'experiment_planner_used': 'ExperimentPlanner',
        'label_manager': 'LabelManager',
        'foreground_intensity_properties_per_channel': intensity_props,
    }


def case_files(folder, seed):
    case = os.path.join(folder, 'lesions', 'case_%07d' % seed)
    return [os.path.join(case, c + '.nii.gz') for c in CHANNELS], os.path.join(case, 'gt.nii.gz')


def intensity_properties(cases, reader, rng):
    """As nnU-Net's DatasetFingerprintExtractor: statistics of (up to 10,000 sampled) foreground voxels per
    case and channel, pooled. Only CTNormalization would use them; written for completeness."""
    values = [[] for _ in CHANNELS]
    for files, seg_file in cases:
        img, _ = reader.read_images(files)
        seg, _ = reader.read_seg(seg_file)
        fg = seg[0] > 0
        for c in range(len(CHANNELS)):
            v = img[c][fg]
            values[c].append(rng.choice(v, 10000, replace=True) if len(v) else v)
    props = {}
    for c in range(len(CHANNELS)):
        v = np.concatenate(values[c]).astype(np.float64)
        props[str(c)] = {'max': float(v.max()), 'mean': float(v.mean()), 'median': float(np.median(v)),
                         'min': float(v.min()), 'percentile_00_5': float(np.percentile(v, 0.5)),
                         'percentile_99_5': float(np.percentile(v, 99.5)), 'std': float(v.std())}
    return props


# ---------------------------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------------------------
def sample_patch(data, seg, fg_voxels, patch, rng, force_fg):
    """One patch (C, *patch) and its labels (1, *patch); with force_fg centred on a random lesion voxel
    (nnU-Net's oversampling), else anywhere in the image; zero padding where the image is smaller."""
    shape = np.array(data.shape[1:])
    patch = np.array(patch)
    if force_fg and len(fg_voxels):
        centre = fg_voxels[rng.integers(len(fg_voxels))]
        lo = centre - patch // 2
    elif rng is None:
        lo = (shape - patch) // 2
    else:
        lo = np.array([rng.integers(0, max(1, s - p + 1)) for s, p in zip(shape, patch)])
    lo = np.clip(lo, 0, np.maximum(shape - patch, 0))
    sl = tuple(slice(int(a), int(a) + int(p)) for a, p in zip(lo, patch))
    d, s = data[(slice(None),) + sl], seg[(slice(None),) + sl]
    # where the image is smaller than the patch: at a random place in it (nnU-Net's loader), centred if rng is None
    before = [int(rng.integers(0, p - n + 1)) if rng is not None else (p - n) // 2
              for p, n in zip(patch, d.shape[1:])]
    pad = [(0, 0)] + [(b, int(p) - n - b) for b, p, n in zip(before, patch, d.shape[1:])]
    return np.pad(d, pad), np.pad(s, pad)


def augment(d, s, rng):
    """nnU-Net's default mirroring (each axis with p 0.5) and its intensity augmentations, per sample:
    Gaussian noise (p 0.1, variance up to 0.1), multiplicative brightness (p 0.15, 0.75-1.25 per channel),
    contrast (p 0.15, 0.75-1.25, clipped to the old range), gamma (p 0.3, 0.7-1.5, and inverted with p 0.1)."""
    for axis in range(3):
        if rng.random() < 0.5:
            d = np.flip(d, axis + 1)
            s = np.flip(s, axis + 1)
    d = np.array(d, dtype=np.float32)
    if rng.random() < 0.1:
        d += rng.normal(0, np.sqrt(rng.uniform(0, 0.1)), d.shape).astype(np.float32)
    for c in range(d.shape[0]):
        if rng.random() < 0.15:
            d[c] *= rng.uniform(0.75, 1.25)
        if rng.random() < 0.15:
            mean, lo, hi = d[c].mean(), d[c].min(), d[c].max()
            d[c] = np.clip((d[c] - mean) * rng.uniform(0.75, 1.25) + mean, lo, hi)
        for invert, p in ((True, 0.1), (False, 0.3)):
            if rng.random() < p:
                x = -d[c] if invert else d[c]
                mean, sd = x.mean(), x.std()
                lo = x.min()
                span = x.max() - lo
                x = np.power((x - lo) / (span + 1e-7), rng.uniform(0.7, 1.5)) * (span + 1e-7) + lo
                x = (x - x.mean()) / (x.std() + 1e-8) * sd + mean  # retain statistics, as nnU-Net does
                d[c] = -x if invert else x
    return d, np.ascontiguousarray(s)


def pseudo_dice(net, patches, torch):
    """nnU-Net's online validation figure: Dice of the foreground over a fixed set of validation patches
    (tp, fp, fn summed over the patches)."""
    tp = fp = fn = 0
    net.eval()
    with torch.no_grad():
        for d, s in patches:
            out = net(torch.from_numpy(d[None]).to(memory_format=torch.channels_last_3d))
            out = out[0] if isinstance(out, (list, tuple)) else out
            pred = out.argmax(1)[0].numpy() == 1
            gt = s[0] == 1
            tp += int((pred & gt).sum())
            fp += int((pred & ~gt).sum())
            fn += int((~pred & gt).sum())
    net.train()
    return 2.0 * tp / max(1, 2 * tp + fp + fn)


def ds_weights(cm):
    """nnUNetTrainer._get_deep_supervision_scales and _build_loss's weights: 1, 1/2, 1/4, ... with the
    lowest-resolution output's weight 0, normalised to sum 1."""
    scales = list(list(i) for i in 1 / np.cumprod(np.vstack(cm.pool_op_kernel_sizes), axis=0))[:-1]
    weights = np.array([1 / (2 ** i) for i in range(len(scales))])
    weights[-1] = 0
    return scales, weights / weights.sum()


def train_fold(fold, cases, pm, cm, dataset_json, s, torch, nn_imports):
    build, DC_and_CE_loss, DeepSupervisionWrapper, MemoryEfficientSoftDiceLoss = nn_imports
    seed = s['seed_base'] + fold
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    train_cases = [c for i, c in enumerate(cases) if i % s['folds'] != fold]
    val_cases = [c for i, c in enumerate(cases) if i % s['folds'] == fold]
    lm = pm.get_label_manager(dataset_json)
    net = build(pm, cm, len(CHANNELS), lm.num_segmentation_heads, enable_deep_supervision=True)
    net = net.to(memory_format=torch.channels_last_3d)  # faster convolutions on the CPU; saved contiguous
    # nnU-Net's loss with its deep-supervision weights (1, 1/2, 1/4, ...; the lowest output weight 0; normalised)
    scales, weights = ds_weights(cm)
    loss_fn = DeepSupervisionWrapper(
        DC_and_CE_loss({'batch_dice': cm.batch_dice, 'smooth': 1e-5, 'do_bg': False, 'ddp': False}, {},
                       weight_ce=1, weight_dice=1, ignore_label=None, dice_class=MemoryEfficientSoftDiceLoss),
        weights)
    opt = torch.optim.Adam(net.parameters(), s['lr'], weight_decay=s['weight_decay'])
    val_patches = []
    for i in range(s['validation_patches']):
        d, sg, fgv = val_cases[i % len(val_cases)]
        val_patches.append(sample_patch(d, sg, fgv, s['patch'], None, force_fg=False))
    logging = {k: [] for k in ('mean_fg_dice', 'ema_fg_dice', 'dice_per_class_or_region', 'train_losses',
                               'val_losses', 'lrs', 'epoch_start_timestamps', 'epoch_end_timestamps')}
    best_ema = None
    losses = []
    epoch_start = time.time()
    t0 = time.time()
    net.train()
    def log_epoch(phase, it, lr):
        nonlocal best_ema, losses, epoch_start
        dice = pseudo_dice(net, val_patches, torch)
        ema = dice if not logging['ema_fg_dice'] else logging['ema_fg_dice'][-1] * 0.9 + 0.1 * dice
        logging['mean_fg_dice'].append(np.float64(dice))
        logging['ema_fg_dice'].append(np.float64(ema))
        logging['dice_per_class_or_region'].append([np.float64(dice)])
        logging['train_losses'].append(np.float32(np.mean(losses)))
        logging['val_losses'].append(np.float32(np.nan))  # not measured (the validation is Dice only)
        logging['lrs'].append(float(lr))
        logging['epoch_start_timestamps'].append(epoch_start)
        logging['epoch_end_timestamps'].append(time.time())
        best_ema = np.float64(ema) if best_ema is None else max(best_ema, np.float64(ema))
        print(f'fold {fold} {phase} step {it} loss {np.mean(losses):.4f} held-back Dice {dice:.3f} '
              f'lr {lr:.2e} {time.time() - t0:.0f}s', flush=True)
        losses = []
        epoch_start = time.time()

    # Two phases: lesion-focused crops (cheap steps, most of the learning), then whole-image patches (the plans'
    # patch, what inference feeds the network), so that the instance norms see whole-image statistics at the end.
    # One poly schedule over both; a phase ends at its step count or at its share of the fold's time budget.
    phases = [('crops', s['crop_patch'], s['crop_batch'], s['crop_steps'], s['crop_share'], s['foreground_fraction']),
              ('whole-image', s['patch'], s['batch'], s['whole_steps'], 1 - s['crop_share'], 0.0)]
    it = 0
    steps_done = {}
    offset = 0.0
    for phase, patch, batch, phase_steps, share, fg_fraction in phases:
        t_phase = time.time()
        steps_done[phase] = 0
        for k in range(phase_steps):
            progress = k / phase_steps
            if s['max_fold_seconds']:
                progress = max(progress, (time.time() - t_phase) / (share * s['max_fold_seconds']))
            if progress >= 1:
                break
            steps_done[phase] = k + 1
            lr = s['lr'] * min(1.0, (it + 1) / s['warmup']) * (1 - (offset + share * progress)) ** 0.9
            for g in opt.param_groups:
                g['lr'] = lr
            xs, ys = [], []
            for b in range(batch):
                d, sg, fgv = train_cases[rng.integers(len(train_cases))]
                force = rng.random() < fg_fraction  # nnU-Net's foreground oversampling
                pd_, ps_ = sample_patch(d, sg, fgv, patch, rng, force)
                pd_, ps_ = augment(pd_, ps_, rng)
                xs.append(pd_)
                ys.append(ps_)
            x = torch.from_numpy(np.stack(xs)).to(memory_format=torch.channels_last_3d)
            y = torch.from_numpy(np.stack(ys).astype(np.int64)).clamp_min(0).float()
            targets = [y] + [torch.nn.functional.interpolate(y, scale_factor=tuple(float(f) for f in sc),
                                                             mode='nearest') for sc in scales[1:]]
            out = net(x)
            loss = loss_fn(out, targets)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 12)
            opt.step()
            it += 1
            losses.append(float(loss.detach()))
            last = k == phase_steps - 1 or (s['max_fold_seconds'] and
                                             time.time() - t_phase > share * s['max_fold_seconds'])
            if it % s['steps_per_epoch'] == 0 or last:
                log_epoch(phase, it, lr)
        offset += share
    seconds = time.time() - t0
    net.eval()
    net = net.to(memory_format=torch.contiguous_format)  # in place: the decoder's aliases of the encoder stay shared
    weights_sd = net.state_dict()
    # Adam's state_dict with its per-parameter moments left out (they are twice the size of the weights and
    # nothing reads them for inference): the folder stays a few MB. The param_groups are the real ones.
    opt_sd = opt.state_dict()
    opt_sd['state'] = {}
    checkpoint = {
        'network_weights': weights_sd,
        'optimizer_state': opt_sd,
        'grad_scaler_state': None,  # CPU training in float32: nnUNetTrainer has no GradScaler then
        'logging': logging,
        '_best_ema': best_ema,
        'current_epoch': len(logging['train_losses']),
        'init_args': {'plans': deepcopy(pm.plans), 'configuration': CONFIGURATION, 'fold': fold,
                      'dataset_json': dataset_json, 'device': torch.device('cpu')},
        'trainer_name': TRAINER,
        'inference_allowed_mirroring_axes': (0, 1, 2),
    }
    summary = {'fold': fold, 'seed': seed, 'training_cases': len(train_cases), 'held_back_cases': len(val_cases),
               'steps': steps_done, 'steps_planned': {'crops': s['crop_steps'], 'whole-image': s['whole_steps']},
               'seconds': round(seconds),
               'final_train_loss': float(logging['train_losses'][-1]),
               'pseudo_dice_last': float(logging['mean_fg_dice'][-1]), 'ema_pseudo_dice_best': float(best_ema)}
    return checkpoint, summary


# ---------------------------------------------------------------------------------------------------------------
# checks and evaluation
# ---------------------------------------------------------------------------------------------------------------
def run_segment(segxai, files, model, out, extra):
    cmd = [segxai, 'segment'] + sum([['--study', f] for f in files], []) + ['--model', model, '--out', out] + extra
    t = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.time() - t, cmd


def check_against_nnunet(segxai, model_dir, files, work, torch):
    """nnU-Net's own predictor (fold 0, no mirroring) against `segxai segment --folds 0 --no-mirroring`."""
    import nibabel as nib
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    t = time.time()
    predictor = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=False,
                                perform_everything_on_device=False, device=torch.device('cpu'), verbose=False,
                                verbose_preprocessing=False, allow_tqdm=False)
    predictor.initialize_from_trained_model_folder(model_dir, use_folds=(0,), checkpoint_name='checkpoint_final.pth')
    out_dir = os.path.join(work, 'nnunet_pred')
    os.makedirs(out_dir, exist_ok=True)
    predictor.predict_from_files_sequential([files], [os.path.join(out_dir, 'case')], save_probabilities=False,
                                            overwrite=True, folder_with_segs_from_prev_stage=None)
    nnunet_seconds = time.time() - t
    ours = os.path.join(out_dir, 'segxai.nii.gz')
    seconds, cmd = run_segment(segxai, files, model_dir, ours, ['--folds', '0', '--no-mirroring'])
    a = np.asarray(nib.load(os.path.join(out_dir, 'case.nii.gz')).dataobj)
    b = np.asarray(nib.load(ours).dataobj)
    equal = float((a == b).mean())
    return {'case': os.path.dirname(files[0]).rsplit('/', 1)[-1], 'folds': [0], 'mirroring': False,
            'nnunet': 'nnUNetPredictor.initialize_from_trained_model_folder + predict_from_files_sequential',
            'nnunet_seconds': round(nnunet_seconds, 1), 'segxai_seconds': round(seconds, 1),
            'segxai_command': ' '.join(cmd[1:]).replace(work, '<work>').replace(model_dir, '<model>'),
            'equal_voxels_percent': round(100 * equal, 4), 'differing_voxels': int((a != b).sum()),
            'lesion_voxels_nnunet': int((a == 1).sum()), 'lesion_voxels_segxai': int((b == 1).sum())}


def evaluate(segxai, model_dir, held_dir, work, folds, n_cases=4, mirrors=(False, True)):
    import nibabel as nib
    from train_demo_models import dice, lesion_detection
    variants = [('fold_%d' % k, ['--folds', str(k)]) for k in range(folds)] + [('ensemble', [])]
    rows = {}
    for name, fold_args in variants:
        for mirror in mirrors:
            key = name + ('_mirror' if mirror else '_nomirror')
            per_case = []
            for seed in range(HELD_OUT, HELD_OUT + n_cases):
                files, gt_file = case_files(held_dir, seed)
                out = os.path.join(work, 'pred_%s_%d.nii.gz' % (key, seed))
                seconds, _ = run_segment(segxai, files, model_dir, out,
                                         fold_args + ([] if mirror else ['--no-mirroring']))
                pred = np.asarray(nib.load(out).dataobj).astype(np.int64)
                gt = np.asarray(nib.load(gt_file).dataobj).astype(np.int64)
                m = {'seed': seed, 'lesion_dice': float(dice(pred == 1, gt == 1)),
                     'lesion_detection': float(lesion_detection(pred == 1, gt == 1)),
                     'segment_seconds': round(seconds, 1)}
                per_case.append(m)
                print(key, m, flush=True)
            rows[key] = {
                'folds': fold_args[1:] if fold_args else list(range(folds)), 'mirroring': mirror,
                'mean_lesion_dice': float(np.mean([m['lesion_dice'] for m in per_case])),
                'mean_lesion_detection': float(np.mean([m['lesion_detection'] for m in per_case])),
                'mean_segment_seconds': round(float(np.mean([m['segment_seconds'] for m in per_case])), 1),
                'cases': per_case}
            print(key, 'mean Dice %.4f' % rows[key]['mean_lesion_dice'], flush=True)
    return rows


def explain_once(segxai, model_dir, files, work):
    out = os.path.join(work, 'cam.nii.gz')
    cmd = [segxai, 'explain'] + sum([['--study', f] for f in files], []) + [
        '--model', model_dir, '--method', 'seg-grad-cam', '--target', 'class:lesion', '--layer', 'encoder.stages.2',
        '--out', out, '--report', os.path.join(work, 'cam.json')]
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    return {'command': ' '.join(['segxai'] + cmd[1:]).replace(work, '<work>').replace(model_dir, '<model>'),
            'seconds': round(time.time() - t, 1), 'returncode': r.returncode,
            'stderr_tail': r.stderr[-500:] if r.returncode else ''}


# ---------------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--segxai', required=True, help='the segxai binary')
    ap.add_argument('--nnunet', required=True, help='checkout of MIC-DKFZ/nnUNet (the folder holding nnunetv2/)')
    ap.add_argument('--dna', required=True, help='checkout of MIC-DKFZ/dynamic-network-architectures')
    ap.add_argument('--extra', action='append', default=[], help='more import roots (batchgenerators, acvl_utils)')
    ap.add_argument('--out', default=os.path.join(REPO, 'assets', 'models', 'lesions_nnunet'))
    ap.add_argument('--work', default=None, help='scratch folder (default: a temporary one, removed at the end)')
    ap.add_argument('--quick', action='store_true', help='6 cases, a few steps per fold: checks the pipeline')
    ap.add_argument('--max-fold-seconds', type=float, default=None,
                    help='wall-time budget per fold (default %d; 0: none)' % SETTINGS['max_fold_seconds'])
    ap.add_argument('--evaluate-only', action='store_true', help='only re-run the checks and the evaluation')
    args = ap.parse_args()

    t_start = time.time()
    for p in [args.nnunet, args.dna] + args.extra:
        sys.path.insert(0, os.path.abspath(p))
    work = args.work or tempfile.mkdtemp(prefix='segxai_nnunet_')
    os.makedirs(work, exist_ok=True)
    for v in ('nnUNet_raw', 'nnUNet_preprocessed', 'nnUNet_results'):
        os.environ[v] = os.path.join(work, v)  # only to silence nnunetv2.paths; nothing is written there
    os.environ.setdefault('nnUNet_def_n_proc', '2')
    _install_stubs()
    import torch
    torch.set_num_threads(2)
    from nnunetv2.imageio.nibabel_reader_writer import NibabelIO
    from nnunetv2.preprocessing.preprocessors.default_preprocessor import DefaultPreprocessor
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
    from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name
    from nnunetv2.training.loss.compound_losses import DC_and_CE_loss
    from nnunetv2.training.loss.deep_supervision import DeepSupervisionWrapper
    from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss

    s = dict(SETTINGS)
    if args.quick:
        s.update(cases=6, crop_steps=4, whole_steps=2, steps_per_epoch=3)
    if args.max_fold_seconds is not None:
        s['max_fold_seconds'] = args.max_fold_seconds
    segxai = os.path.abspath(args.segxai)
    out = os.path.abspath(args.out)
    model_dir = os.path.join(out, DATASET, f'{TRAINER}__{PLANS}__{CONFIGURATION}')
    summary_path = os.path.join(out, 'training.json')
    summary = json.load(open(summary_path)) if args.evaluate_only else {}

    held_dir = os.path.join(work, 'held_out')
    subprocess.run([segxai, 'demo-data', held_dir, '--task', 'lesions', '--cases', '4', '--first-seed',
                    str(HELD_OUT)], check=True, stdout=subprocess.DEVNULL)

    if not args.evaluate_only:
        t = time.time()
        train_dir = os.path.join(work, 'train')
        subprocess.run([segxai, 'demo-data', train_dir, '--task', 'lesions', '--cases', str(s['cases']),
                        '--first-seed', '1'], check=True, stdout=subprocess.DEVNULL)
        raw = [case_files(train_dir, seed) for seed in range(1, s['cases'] + 1)]
        generate_seconds = time.time() - t
        print(f'generated {len(raw)} cases in {generate_seconds:.0f}s', flush=True)

        t = time.time()
        dataset_json = make_dataset_json(len(raw))
        reader = NibabelIO()
        props = intensity_properties(raw, reader, np.random.default_rng(1234))
        shape_1mm = reader.read_images(raw[0][0])[0].shape[1:]
        # first pass: plans with a provisional median size, to run the preprocessor; the size is then updated
        plans = make_plans(dict(s, patch=[48, 48, 48]), props, shape_1mm, shape_1mm)
        pm = PlansManager(plans)
        cm = pm.get_configuration(CONFIGURATION)
        pre = DefaultPreprocessor(verbose=False)
        cases, relative_sizes = [], []
        for files, seg_file in raw:
            data, seg, p = pre.run_case(files, seg_file, pm, cm, dataset_json)
            relative_sizes.append(float(np.prod(p['shape_after_cropping_and_before_resampling']) /
                                        np.prod(p['shape_before_cropping'])))
            fg = np.argwhere(seg[0] == 1)
            cases.append((data.astype(np.float32), seg.astype(np.int16), fg))
            shutil.rmtree(os.path.dirname(files[0]))  # the 1 mm case is no longer needed
        median_2mm = np.median(np.array([c[0].shape[1:] for c in cases]), 0)
        s['patch'] = [int(np.ceil(m / 8) * 8) for m in median_2mm]
        plans = make_plans(s, props, shape_1mm, median_2mm)
        pm = PlansManager(plans)
        cm = pm.get_configuration(CONFIGURATION)
        preprocess_seconds = time.time() - t
        print(f'preprocessed to {cases[0][0].shape} in {preprocess_seconds:.0f}s; median relative size after '
              f'cropping {np.median(relative_sizes):.3f} (< 0.75 would make the planner use the mask)', flush=True)

        if os.path.isdir(os.path.join(out, DATASET)):
            shutil.rmtree(os.path.join(out, DATASET))
        os.makedirs(model_dir)
        save_json(dataset_json, os.path.join(model_dir, 'dataset.json'))
        save_json(plans, os.path.join(model_dir, 'plans.json'))

        build = recursive_find_trainer_class_by_name(TRAINER).build_network_architecture
        fold_rows = []
        t_train = time.time()
        for fold in range(s['folds']):
            checkpoint, row = train_fold(fold, cases, pm, cm, dataset_json, s, torch,
                                         (build, DC_and_CE_loss, DeepSupervisionWrapper, MemoryEfficientSoftDiceLoss))
            os.makedirs(os.path.join(model_dir, f'fold_{fold}'))
            torch.save(checkpoint, os.path.join(model_dir, f'fold_{fold}', 'checkpoint_final.pth'))
            fold_rows.append(row)
            print(row, flush=True)
        n_params = sum({v.data_ptr(): v.numel() for v in checkpoint['network_weights'].values()}.values())
        summary = {
            'dataset': DATASET, 'trainer': TRAINER, 'plans': PLANS, 'configuration': CONFIGURATION,
            'command': ' '.join(['/usr/bin/python3', os.path.relpath(os.path.abspath(__file__), REPO)] +
                                [a.replace(REPO + '/', '') for a in sys.argv[1:]]),
            'settings': s, 'training_case_seeds': [1, s['cases']],
            'fold_split': 'fold k holds back training cases i (0-based) with i % 3 == k',
            'held_out_seeds': [HELD_OUT, HELD_OUT + 3],
            'network': 'PlainConvUNet (dynamic_network_architectures), %d parameters' % n_params,
            'optimizer': 'Adam (weight decay 3e-5), linear warm-up then poly (0.9) learning rate, grad clip 12',
            'loss': "nnU-Net's DC_and_CE_loss (MemoryEfficientSoftDiceLoss, batch Dice, no background) in its "
                    "DeepSupervisionWrapper (weights %s)" % [round(float(w), 4) for w in ds_weights(cm)[1]],
            'augmentation': 'mirroring on all three axes (p 0.5 each); Gaussian noise, multiplicative brightness, '
                            'contrast, gamma (nnU-Net default probabilities); no spatial augmentation',
            'median_relative_size_after_cropping': float(np.median(relative_sizes)),
            'use_mask_for_norm': [False, False],
            'preprocessed_shape': [int(i) for i in cases[0][0].shape[1:]],
            'generate_seconds': round(generate_seconds), 'preprocess_seconds': round(preprocess_seconds),
            'training_seconds_all_folds': round(time.time() - t_train), 'folds': fold_rows,
            'torch': torch.__version__, 'threads': torch.get_num_threads(),
        }
        del cases

    files0, _ = case_files(held_dir, HELD_OUT)
    summary['nnunet_check'] = check_against_nnunet(segxai, model_dir, files0, work, torch)
    print(summary['nnunet_check'], flush=True)
    summary['held_out_1mm'] = evaluate(segxai, model_dir, held_dir, work, s['folds'],
                                       *((1, (False,)) if args.quick else (4, (False, True))))
    if not args.quick:
        summary['explain_example'] = explain_once(segxai, model_dir, files0, work)
    print(summary.get('explain_example'), flush=True)
    summary['total_seconds' if not args.evaluate_only else 'evaluate_only_seconds'] = round(time.time() - t_start)
    save_json(summary, summary_path)
    print(json.dumps({k: v for k, v in summary.items() if k != 'held_out_1mm'}, indent=1, default=str))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
