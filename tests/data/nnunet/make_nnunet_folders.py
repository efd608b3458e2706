#!/usr/bin/python3
"""Generate small nnU-Net v2 trained-model folders + reference predictions for SegXAI's C++ tests.

Usage:
  /usr/bin/python3 tests/data/nnunet/make_nnunet_folders.py \
      --nnunet /path/to/nnUNet --dna /path/to/dynamic-network-architectures \
      --extra /path/to/batchgenerators --extra /path/to/acvl_utils \
      --out tests/data/nnunet

The nnU-Net / dynamic-network-architectures sources are NOT part of this repository; they are imported from the
paths given on the command line. Everything that computes a reference value (preprocessing, network construction,
sliding window, mirroring, fold ensembling, export) is nnU-Net's own code, driven through
nnunetv2.inference.predict_from_raw_data.nnUNetPredictor.

Output layout (below --out):
  results/<DatasetXXX_Name>/<Trainer>__<Plans>__3d_fullres/{dataset.json, plans.json, fold_<k>/checkpoint_final.pth}
  refs/<DatasetXXX_Name>/...   test input image(s), reference predictions, intermediate tensors, gradient/CAM refs
  refs/manifest.json           what was generated (machine readable)

Optional python deps that nnU-Net imports but that are not used by the inference computation are replaced by inert
stub modules (see _install_stubs): SimpleITK, blosc2, einops, timm, yacs, batchgeneratorsv2, imagecodecs, cc3d, wandb,
torch._dynamo (torch 1.13 has no torch._dynamo; nnU-Net only uses OptimizedModule for isinstance checks) and
torch.optim.lr_scheduler._enable_get_lr_call (torch>=2 private helper, imported by a training LR-scheduler module).
A stub raises RuntimeError if it is ever *called*, so a silent use in the computation is impossible.
Weights come from a short training loop in this script (nnUNetTrainer itself needs a blosc2 dataset on disk and
batchgeneratorsv2); the checkpoint dict mimics nnUNetTrainer.save_checkpoint.
"""
import argparse
import importlib.abc
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
from copy import deepcopy

import numpy as np

T0 = time.time()


# ----------------------------------------------------------------------------------------------------------------------
# stubs for optional dependencies (import-time only)
# ----------------------------------------------------------------------------------------------------------------------
STUBBED = ['SimpleITK', 'blosc2', 'einops', 'timm', 'yacs', 'batchgeneratorsv2', 'imagecodecs', 'cc3d', 'wandb']
STUBS_USED = []


def _install_stubs():
    missing = []
    for m in STUBBED:
        try:
            __import__(m)
        except Exception:
            missing.append(m)

    class _Dummy:
        def __init__(self, name):
            self._n = name

        def __call__(self, *a, **k):
            raise RuntimeError('stubbed optional dependency was used: ' + self._n)

        def __getattr__(self, k):
            return _Dummy(self._n + '.' + k)

        def __mro_entries__(self, bases):
            return (object,)

    class _StubModule(types.ModuleType):
        def __getattr__(self, k):
            if k.startswith('__'):
                raise AttributeError(k)
            return _Dummy(self.__name__ + '.' + k)

    class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name.split('.')[0] in missing:
                if name.split('.')[0] not in STUBS_USED:
                    STUBS_USED.append(name.split('.')[0])
                return importlib.machinery.ModuleSpec(name, self, is_package=True)
            return None

        def create_module(self, spec):
            m = _StubModule(spec.name)
            m.__path__ = []
            return m

        def exec_module(self, m):
            pass

    sys.meta_path.insert(0, _Finder())

    import torch
    try:
        import torch._dynamo  # noqa: F401
    except ImportError:
        dyn = types.ModuleType('torch._dynamo')

        class OptimizedModule(torch.nn.Module):  # never instantiated; only used in isinstance() checks
            pass

        dyn.OptimizedModule = OptimizedModule
        sys.modules['torch._dynamo'] = dyn
        torch._dynamo = dyn
        STUBS_USED.append('torch._dynamo')
    # torch<2 lacks this private helper; nnunetv2/training/lr_scheduler/warmup.py imports it at module level and
    # recursive_find_trainer_class_by_name imports every trainer module. Only used by LR schedulers (training).
    import torch.optim.lr_scheduler as _lrs
    if not hasattr(_lrs, '_enable_get_lr_call'):
        class _enable_get_lr_call:
            def __init__(self, o):
                self.o = o

            def __enter__(self):
                return self

            def __exit__(self, *a):
                return False

        _lrs._enable_get_lr_call = _enable_get_lr_call
        STUBS_USED.append('torch.optim.lr_scheduler._enable_get_lr_call')


# ----------------------------------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------------------------------
def save_json(obj, path):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def save_f32(arr, path_noext, description, extra=None):
    """raw little-endian float32, C order (last index fastest), + JSON sidecar"""
    a = np.ascontiguousarray(np.asarray(arr, dtype='<f4'))
    a.tofile(path_noext + '.f32')
    meta = {'file': os.path.basename(path_noext) + '.f32', 'dtype': 'float32', 'byte_order': 'little',
            'layout': 'C order (row-major, last dimension varies fastest)', 'shape': [int(i) for i in a.shape],
            'description': description}
    if extra:
        meta.update(extra)
    save_json(meta, path_noext + '.json')


def affine_from(rot_deg_xyz, spacing_xyz, origin, perm=(0, 1, 2), flips=(1, 1, 1)):
    """4x4 voxel->world affine: world = R * P * diag(flips*spacing) * ijk + origin"""
    ax, ay, az = [np.deg2rad(a) for a in rot_deg_xyz]
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    p = np.zeros((3, 3))
    for i, j in enumerate(perm):
        p[j, i] = 1
    m = rz @ ry @ rx @ p @ np.diag(np.array(flips, dtype=float) * np.array(spacing_xyz, dtype=float))
    a = np.eye(4)
    a[:3, :3] = m
    a[:3, 3] = origin
    return a


def write_nifti(arr_xyz, affine, path, dtype):
    import nibabel
    img = nibabel.Nifti1Image(np.asarray(arr_xyz).astype(dtype), affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    img.header.set_data_dtype(dtype)
    if np.issubdtype(np.dtype(dtype), np.integer):
        img.header['scl_slope'] = 1
        img.header['scl_inter'] = 0
    nibabel.save(img, path)


# ----------------------------------------------------------------------------------------------------------------------
# synthetic images
# ----------------------------------------------------------------------------------------------------------------------
def synth_case(kind, shape_xyz, spacing_xyz, rng, n_channels=1):
    """returns (list of channel arrays in nibabel (x,y,z) order, label array (x,y,z) uint8)

    The geometry is defined in mm so that every case looks alike regardless of spacing.
    Always leaves a zero border of >= 3 voxels so that nnU-Net's crop_to_nonzero crops something."""
    sx, sy, sz = shape_xyz
    gx, gy, gz = np.meshgrid(np.arange(sx) * spacing_xyz[0], np.arange(sy) * spacing_xyz[1],
                             np.arange(sz) * spacing_xyz[2], indexing='ij')
    ext = np.array(shape_xyz) * np.array(spacing_xyz)
    c = ext / 2 + rng.uniform(-0.06, 0.06, 3) * ext

    def ell(center, radii):
        return ((gx - center[0]) / radii[0]) ** 2 + ((gy - center[1]) / radii[1]) ** 2 + \
               ((gz - center[2]) / radii[2]) ** 2

    body = ell(c, ext * np.array([0.40, 0.38, 0.42])) <= 1
    border = np.zeros(shape_xyz, dtype=bool)
    b = 3
    border[b:-b, b:-b, b:-b] = True
    lab = np.zeros(shape_xyz, dtype=np.uint8)
    c1 = c + rng.uniform(-0.08, 0.08, 3) * ext
    r1 = ext * rng.uniform(0.17, 0.22, 3)
    organ = (ell(c1, r1) <= 1) & body
    c2 = c1 + rng.uniform(-0.3, 0.3, 3) * r1
    r2 = r1 * rng.uniform(0.6, 0.75)
    lesion = (ell(c2, r2) <= 1) & organ
    chans = []
    if kind == 'ct':
        # HU-like int16: air -1000 (inside the scanned field), body ~ 40, organ ~ 130, lesion ~ 210, bone ring
        img = np.full(shape_xyz, -1000.0)
        img[body] = 40 + rng.normal(0, 18, body.sum())
        shell = body & (ell(c, ext * np.array([0.34, 0.32, 0.36])) > 1)
        img[shell] = 500 + rng.normal(0, 150, shell.sum())
        img[organ] = 130 + rng.normal(0, 15, organ.sum())
        img[lesion] = 210 + rng.normal(0, 15, lesion.sum())  # hyperdense lesion
        img[~border] = 0  # zero border -> crop_to_nonzero crops it
        lab[organ] = 1
        lab[lesion] = 2
        chans.append(np.round(img).astype(np.int16))
    elif kind in ('mr', 'mr_regions'):
        # MR-like float32, 0 outside an ellipsoid 'head' (non rectangular nonzero mask), a zero cavity inside the head
        # (binary_fill_holes puts it back into the nonzero mask)
        cav = ell(c + np.array([0.25, -0.2, 0.1]) * ext * 0.4, ext * 0.05) <= 1
        if kind == 'mr':
            c3 = c - rng.uniform(0.1, 0.15, 3) * ext
            third = (ell(c3, ext * 0.09) <= 1) & body & ~organ
            lab[organ] = 1
            lab[third] = 2
            levels = [(300, 40, 520, 70, 160), (600, 60, 250, 40, 900)]
        else:
            # nested regions: 1 = edema (outer), 3 = enhancing (shell), 2 = necrotic core
            core_r = r1 * 0.55
            shell_r = r1 * 0.8
            shell = ell(c1, shell_r) <= 1
            core = ell(c1, core_r) <= 1
            lab[organ] = 1
            lab[shell & organ] = 3
            lab[core & organ] = 2
            third = np.zeros_like(organ)
            levels = [(300, 40, 600, 60, 0)]
        for ch in range(n_channels):
            base, noise, o_val, o_noise, t_val = levels[ch]
            img = np.zeros(shape_xyz)
            img[body] = base + rng.normal(0, noise, body.sum())
            img[organ] = o_val + rng.normal(0, o_noise, organ.sum())
            if kind == 'mr':
                img[third] = t_val + rng.normal(0, 30, third.sum())
            else:
                img[lab == 3] = 900 + rng.normal(0, 50, (lab == 3).sum())
                img[lab == 2] = 150 + rng.normal(0, 30, (lab == 2).sum())
            img[cav & ~organ] = 0
            img[~border] = 0
            chans.append(img.astype(np.float32))
        lab[~border] = 0
        lab[cav & ~organ] = 0
    else:
        raise ValueError(kind)
    return chans, lab


# ----------------------------------------------------------------------------------------------------------------------
# dataset specifications
# ----------------------------------------------------------------------------------------------------------------------
def arch_new(network_class_name, n_stages, features, kernels, strides, enc_key, n_enc, n_dec):
    return {
        'network_class_name': network_class_name,
        'arch_kwargs': {
            'n_stages': n_stages,
            'features_per_stage': features,
            'conv_op': 'torch.nn.modules.conv.Conv3d',
            'kernel_sizes': kernels,
            'strides': strides,
            enc_key: n_enc,
            'n_conv_per_stage_decoder': n_dec,
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


RESAMPLING = {
    'resampling_fn_data': 'resample_data_or_seg_to_shape',
    'resampling_fn_seg': 'resample_data_or_seg_to_shape',
    'resampling_fn_data_kwargs': {'is_seg': False, 'order': 3, 'order_z': 0, 'force_separate_z': None},
    'resampling_fn_seg_kwargs': {'is_seg': True, 'order': 1, 'order_z': 0, 'force_separate_z': None},
    'resampling_fn_probabilities': 'resample_data_or_seg_to_shape',
    'resampling_fn_probabilities_kwargs': {'is_seg': False, 'order': 1, 'order_z': 0, 'force_separate_z': None},
}

K333 = [3, 3, 3]

SPECS = [
    dict(
        name='Dataset901_PlainCTAniso', kind='ct', n_channels=1, steps_scale=1.25,
        channel_names={'0': 'CT'},
        labels={'background': 0, 'organ': 1, 'lesion': 2},
        regions_class_order=None,
        trainer='nnUNetTrainer', mirror_axes=(0, 1, 2), plans_name='nnUNetPlans',
        reader='NibabelIO', planner='ExperimentPlanner',
        shape_xyz=(52, 44, 18), spacing_xyz=(0.8, 0.8, 3.0),
        affine=dict(rot=(0, 0, 20), origin=(-20.5, 31.25, -12.0)),
        # nnU-Net axis order (z, y, x) == transpose_forward [0,1,2]
        transpose_forward=[0, 1, 2], target_spacing=[2.5, 1.0, 1.0],
        patch_size=[16, 32, 32],
        normalization='CTNormalization', use_mask_for_norm=[False],
        arch=arch_new('dynamic_network_architectures.architectures.unet.PlainConvUNet', 4, [4, 8, 16, 16],
                      [[1, 3, 3], K333, K333, K333], [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2]],
                      'n_conv_per_stage', [2, 2, 2, 2], [2, 2, 2]),
        folds=[0, 1], grad_scaler=True, gradcam=True,
        predictions=[
            dict(name='f0_nomirror', folds=[0], mirror=False, intermediates=True),
            dict(name='f1_nomirror', folds=[1], mirror=False),
            dict(name='ens_nomirror', folds=[0, 1], mirror=False),
            dict(name='ens_mirror', folds=[0, 1], mirror=True),
        ]),
    dict(
        name='Dataset902_ResEncMR2ch', kind='mr', n_channels=2,
        channel_names={'0': 'T1', '1': 'T2'},
        labels={'background': 0, 'structA': 1, 'structB': 2},
        regions_class_order=None,
        trainer='nnUNetTrainer_onlyMirror01', mirror_axes=(0, 1), plans_name='nnUNetResEncUNetMPlans',
        reader='NibabelIO', planner='nnUNetPlannerResEncM',
        # largest spacing is along nibabel x -> nnU-Net array axis 2 -> transpose_forward [2, 0, 1]
        shape_xyz=(24, 50, 44), spacing_xyz=(2.0, 1.0, 1.0),
        affine=dict(rot=(15, -10, 5), origin=(40.0, -60.0, 10.0)),
        transpose_forward=[2, 0, 1], target_spacing=[2.0, 1.25, 1.25],
        patch_size=[16, 32, 32],
        normalization='ZScoreNormalization', use_mask_for_norm=[True, True],
        arch=arch_new('dynamic_network_architectures.architectures.unet.ResidualEncoderUNet', 4, [4, 8, 16, 16],
                      [K333, K333, K333, K333], [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2]],
                      'n_blocks_per_stage', [1, 2, 2, 2], [1, 1, 1]),
        folds=[0], grad_scaler=False, gradcam=True,
        predictions=[
            dict(name='f0_nomirror', folds=[0], mirror=False, intermediates=True),
            dict(name='f0_mirror', folds=[0], mirror=True),
        ]),
    dict(
        name='Dataset903_RegionsMR', kind='mr_regions', n_channels=1,
        channel_names={'0': 'FLAIR'},
        labels={'background': 0, 'whole_tumor': [1, 2, 3], 'tumor_core': [2, 3], 'enhancing_tumor': [3]},
        regions_class_order=[1, 2, 3],
        trainer='nnUNetTrainerNoMirroring', mirror_axes=None, plans_name='nnUNetPlans',
        reader='NibabelIO', planner='ExperimentPlanner',
        # spacing == target spacing -> no resampling at all (identity path)
        shape_xyz=(46, 42, 36), spacing_xyz=(1.0, 1.0, 1.0),
        affine=dict(rot=(0, 0, 0), origin=(-23.0, -21.0, 18.0), flips=(-1, -1, 1)),
        transpose_forward=[0, 1, 2], target_spacing=[1.0, 1.0, 1.0],
        patch_size=[32, 32, 32],
        normalization='ZScoreNormalization', use_mask_for_norm=[False],
        arch=arch_new('dynamic_network_architectures.architectures.unet.PlainConvUNet', 4, [4, 8, 16, 16],
                      [K333, K333, K333, K333], [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]],
                      'n_conv_per_stage', [2, 2, 2, 2], [2, 2, 2]),
        folds=[0], grad_scaler=False, gradcam=False,
        predictions=[
            dict(name='f0_default', folds=[0], mirror=True, intermediates=True),  # trainer disables mirroring
        ]),
    dict(
        name='Dataset904_OldPlansCT', kind='ct', n_channels=1, steps_scale=1.25,
        channel_names={'0': 'CT'},
        labels={'background': 0, 'organ': 1, 'lesion': 2},
        regions_class_order=None,
        trainer='nnUNetTrainer', mirror_axes=(0, 1, 2), plans_name='nnUNetPlans',
        reader='NibabelIOWithReorient', planner='ExperimentPlanner',
        # stored in a non-RAS orientation (axes permuted + flipped) -> NibabelIOWithReorient reorients to RAS first
        shape_xyz=(40, 20, 48), spacing_xyz=(1.2, 2.0, 1.2),
        affine=dict(rot=(0, 0, 0), origin=(30.0, 20.0, -40.0), perm=(0, 2, 1), flips=(-1, 1, -1)),
        # after reorientation to RAS the nibabel (x,y,z) spacing is (1.2, 1.2, 2.0) -> nnU-Net order (2.0,1.2,1.2)
        transpose_forward=[0, 1, 2], target_spacing=[2.0, 1.5, 1.5],
        patch_size=[16, 32, 32],
        normalization='CTNormalization', use_mask_for_norm=[False],
        old_arch=dict(UNet_class_name='PlainConvUNet', UNet_base_num_features=4, unet_max_num_features=16,
                      n_conv_per_stage_encoder=[2, 2, 2], n_conv_per_stage_decoder=[2, 2],
                      num_pool_per_axis=[2, 3, 3],
                      pool_op_kernel_sizes=[[1, 1, 1], [2, 2, 2], [2, 2, 2]],
                      conv_kernel_sizes=[K333, K333, K333]),
        folds=[0], grad_scaler=False, gradcam=False,
        predictions=[
            dict(name='f0_mirror', folds=[0], mirror=True),
            dict(name='f0_nomirror', folds=[0], mirror=False, intermediates=True),
        ]),
]
# fix num_pool_per_axis to be consistent with pool_op_kernel_sizes (pools along axis0: 2, axis1: 2, axis2: 2)
SPECS[3]['old_arch']['num_pool_per_axis'] = [2, 2, 2]


def make_dataset_json(spec, n_training):
    dj = {
        'channel_names': spec['channel_names'],
        'labels': spec['labels'],
        'numTraining': n_training,
        'file_ending': '.nii.gz',
    }
    if spec['regions_class_order'] is not None:
        dj['regions_class_order'] = spec['regions_class_order']
    if spec['reader'] == 'NibabelIOWithReorient':
        dj['overwrite_image_reader_writer'] = 'NibabelIOWithReorient'
    dj['name'] = spec['name'].split('_', 1)[1]
    dj['description'] = 'synthetic test dataset generated by SegXAI tests/data/nnunet/make_nnunet_folders.py'
    return dj


def make_plans(spec, intensity_props, median_shape):
    tf = spec['transpose_forward']
    tb = [int(np.argwhere(np.array(tf) == i)[0][0]) for i in range(3)]
    cfg = {
        'data_identifier': spec['plans_name'] + '_3d_fullres',
        'preprocessor_name': 'DefaultPreprocessor',
        'batch_size': 2,
        'patch_size': spec['patch_size'],
        'median_image_size_in_voxels': [float(i) for i in median_shape],
        'spacing': spec['target_spacing'],
        'normalization_schemes': [spec['normalization']] * spec['n_channels'],
        'use_mask_for_norm': spec['use_mask_for_norm'],
    }
    if 'old_arch' in spec:
        # nnU-Net v2 <= 2.2 layout (see git show v2.2.1:nnunetv2/experiment_planning/experiment_planners/
        # default_experiment_planner.py, get_plans_for_configuration)
        cfg.update(deepcopy(spec['old_arch']))
        cfg.update(deepcopy(RESAMPLING))
        cfg['batch_dice'] = False
    else:
        cfg.update(deepcopy(RESAMPLING))
        cfg['architecture'] = deepcopy(spec['arch'])
        cfg['batch_dice'] = False
    plans = {
        'dataset_name': spec['name'],
        'plans_name': spec['plans_name'],
        'original_median_spacing_after_transp': [float(spec['spacing_xyz'][::-1][i]) for i in tf]
        if spec['reader'] != 'NibabelIOWithReorient' else [2.0, 1.2, 1.2],
        'original_median_shape_after_transp': [int(i) for i in median_shape],
        'image_reader_writer': spec['reader'],
        'transpose_forward': tf,
        'transpose_backward': tb,
        'configurations': {'3d_fullres': cfg},
        'experiment_planner_used': spec['planner'],
        'label_manager': 'LabelManager',
        'foreground_intensity_properties_per_channel': intensity_props,
    }
    return plans


# ----------------------------------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------------------------------
def region_targets(seg, regions):
    # seg: (b, x, y, z) int; regions: list of tuples
    import torch
    out = torch.zeros((seg.shape[0], len(regions), *seg.shape[1:]), dtype=torch.float32)
    for i, r in enumerate(regions):
        m = torch.zeros_like(seg, dtype=torch.bool)
        for lab in r:
            m |= seg == lab
        out[:, i] = m.float()
    return out


def sample_patch(data, seg, patch, rng, fg_prob=0.67):
    # data (c, X, Y, Z), seg (1, X, Y, Z); pad if needed (data with 0, seg with 0)
    shp = np.array(data.shape[1:])
    patch = np.array(patch)
    pad = np.maximum(patch - shp, 0)
    if pad.any():
        pw = [(0, 0)] + [(p // 2, p - p // 2) for p in pad]
        data = np.pad(data, pw)
        seg = np.pad(seg, pw)
        shp = np.array(data.shape[1:])
    fg = np.argwhere(seg[0] > 0)
    if len(fg) and rng.uniform() < fg_prob:
        ctr = fg[rng.integers(len(fg))]
        lo = np.clip(ctr - patch // 2, 0, shp - patch)
    else:
        lo = np.array([rng.integers(0, s - p + 1) for s, p in zip(shp, patch)])
    sl = tuple(slice(l, l + p) for l, p in zip(lo, patch))
    return data[(slice(None),) + sl], seg[(slice(None),) + sl]


def soft_dice(p, t, smooth=1e-5):
    # like nnunetv2/training/loss/dice.py: MemoryEfficientSoftDiceLoss (batch_dice False, no background), as a loss
    axes = (2, 3, 4)
    inter = (p * t).sum(axes)
    dc = (2 * inter + smooth) / (p.sum(axes) + t.sum(axes) + smooth).clamp_min(1e-8)
    return -dc.mean()


def train_network(network, cases, spec, label_manager, steps, seed, lr=0.05):
    """a few hundred SGD steps configured like nnU-Net's trainer (SGD + nesterov, wd 3e-5, poly lr, grad clip 12,
    but momentum 0.9 / lr 0.05 instead of 0.99 / 0.01 so that ~100 steps give non-trivial predictions;
    Dice + CE / Dice + BCE for regions, 2/3 foreground oversampling, mirroring augmentation).
    No deep supervision (only seg_layers[-1] is trained; the other seg_layers keep their He init)."""
    import torch
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    opt = torch.optim.SGD(network.parameters(), lr, weight_decay=3e-5, momentum=0.9, nesterov=True)
    network.train()
    logs = {'train_losses': [], 'lrs': []}
    losses = []
    for it in range(steps):
        cur_lr = lr * (1 - it / steps) ** 0.9
        for g in opt.param_groups:
            g['lr'] = cur_lr
        xs, ys = [], []
        for b in range(2):
            d, s = cases[rng.integers(len(cases))]
            pd_, ps_ = sample_patch(d, s, spec['patch_size'], rng)
            if spec['mirror_axes'] is not None:
                for ax in spec['mirror_axes']:
                    if rng.uniform() < 0.5:
                        pd_ = np.flip(pd_, ax + 1)
                        ps_ = np.flip(ps_, ax + 1)
            xs.append(np.ascontiguousarray(pd_))
            ys.append(np.ascontiguousarray(ps_))
        x = torch.from_numpy(np.stack(xs)).float()
        y = torch.from_numpy(np.stack(ys)[:, 0].astype(np.int64))
        y[y < 0] = 0
        out = network(x)
        if label_manager.has_regions:
            t = region_targets(y, label_manager.foreground_regions)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out, t) + soft_dice(torch.sigmoid(out), t)
        else:
            t = torch.nn.functional.one_hot(y, out.shape[1]).permute(0, 4, 1, 2, 3).float()
            loss = torch.nn.functional.cross_entropy(out, y) + soft_dice(torch.softmax(out, 1)[:, 1:], t[:, 1:])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 12)
        opt.step()
        losses.append(loss.detach().cpu().numpy())
        # one "epoch" = 25 iterations (for the logging dict)
        if (it + 1) % 25 == 0:
            logs['train_losses'].append(np.mean(losses))  # np.float32, as nnUNetTrainer.on_train_epoch_end
            logs['lrs'].append(float(cur_lr))
            losses = []
    network.eval()
    return opt, logs


def make_checkpoint(network, opt, train_logs, plans, spec, dataset_json, fold, grad_scaler, rng):
    """mimics nnunetv2/training/nnUNetTrainer/nnUNetTrainer.py: nnUNetTrainer.save_checkpoint"""
    import torch
    n_ep = len(train_logs['train_losses'])
    n_fg = len(spec['labels']) - 1
    t0 = 1.7e9 + rng.uniform(0, 1e6)
    logging = {
        'mean_fg_dice': [], 'ema_fg_dice': [], 'dice_per_class_or_region': [], 'train_losses': [],
        'val_losses': [], 'lrs': [], 'epoch_start_timestamps': [], 'epoch_end_timestamps': []}
    ema = None
    for e in range(n_ep):
        dpc = [np.float64(rng.uniform(0.3, 0.9)) for _ in range(n_fg)]  # list of np.float64 like the trainer
        mfd = np.nanmean(dpc)  # np.float64
        ema = mfd if ema is None else ema * 0.9 + 0.1 * mfd
        logging['mean_fg_dice'].append(mfd)
        logging['ema_fg_dice'].append(ema)
        logging['dice_per_class_or_region'].append(dpc)
        logging['train_losses'].append(train_logs['train_losses'][e])
        logging['val_losses'].append(np.float32(train_logs['train_losses'][e] * rng.uniform(0.9, 1.2)))
        logging['lrs'].append(train_logs['lrs'][e])
        logging['epoch_start_timestamps'].append(t0 + 10.0 * e)
        logging['epoch_end_timestamps'].append(t0 + 10.0 * e + 9.5)
    best_ema = max(logging['ema_fg_dice'])
    plans_for_init = deepcopy(plans)
    init_args = {'plans': plans_for_init, 'configuration': '3d_fullres', 'fold': fold, 'dataset_json': dataset_json,
                 'device': torch.device('cuda')}
    ckpt = {
        'network_weights': network.state_dict(),
        'optimizer_state': opt.state_dict(),
        'grad_scaler_state': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
                              'growth_interval': 2000, '_growth_tracker': 117} if grad_scaler else None,
        'logging': logging,
        '_best_ema': best_ema,
        'current_epoch': n_ep,
        'init_args': init_args,
        'trainer_name': spec['trainer'],
        'inference_allowed_mirroring_axes': spec['mirror_axes'],
    }
    return ckpt


# ----------------------------------------------------------------------------------------------------------------------
# module-path duplicates and gradient / CAM references
# ----------------------------------------------------------------------------------------------------------------------
def module_duplicates(network):
    groups = {}
    for name, m in network.named_modules(remove_duplicate=False):
        if name == '':
            continue
        groups.setdefault(id(m), []).append(name)
    dup_modules = [v for v in groups.values() if len(v) > 1]
    sd = network.state_dict(keep_vars=True)
    pgroups = {}
    for k, v in sd.items():
        pgroups.setdefault(id(v), []).append(k)
    dup_tensors = [v for v in pgroups.values() if len(v) > 1]
    return {
        'description': 'Each inner list names ONE module object (resp. one parameter/buffer tensor) that is registered '
                       'under several paths. named_modules(remove_duplicate=False) order. state_dict() contains every '
                       'name, all aliases share storage.',
        'n_module_paths_total': sum(1 for n, _ in network.named_modules(remove_duplicate=False) if n != ''),
        'n_unique_modules': len(groups),
        'n_state_dict_keys': len(sd),
        'n_unique_state_tensors': len(pgroups),
        'duplicate_module_paths': dup_modules,
        'duplicate_state_dict_keys': dup_tensors,
    }


def gradcam_refs(network, x, out_dir, layers):
    import torch
    network.eval()
    acts, grads = {}, {}
    hooks = []
    mods = dict(network.named_modules())
    for ln in layers:
        def fw(mod, inp, out, ln=ln):
            acts[ln] = out.detach().clone()
            out.register_hook(lambda g, ln=ln: grads.__setitem__(ln, g.detach().clone()))
        hooks.append(mods[ln].register_forward_hook(fw))
    xin = torch.from_numpy(x).float().requires_grad_(True)
    with torch.enable_grad():
        logits = network(xin)
        pred = logits.detach().argmax(1)  # (1, X, Y, Z)
        counts = [int((pred == c).sum()) for c in range(logits.shape[1])]
        fg = [c for c in range(1, logits.shape[1]) if counts[c] > 0]
        cls = max(fg, key=lambda c: counts[c]) if fg else 0
        mask = (pred[0] == cls)
        s = logits[0, cls][mask].sum()
        s.backward()
    for h in hooks:
        h.remove()
    save_f32(x, os.path.join(out_dir, 'input'), 'fixed network input, shape [1,C,X,Y,Z] in network (preprocessed, '
             'transposed) axis order. It is the central patch of the preprocessed test case (see gradcam.json '
             'input_crop_from_preprocessed_case; placed at index 0 and zero padded where the case is smaller).')
    save_f32(logits.detach().numpy(), os.path.join(out_dir, 'logits'), 'network(input) in eval mode, no deep '
             'supervision: [1,K,X,Y,Z]')
    save_f32(xin.grad.numpy(), os.path.join(out_dir, 'grad_input'), f'dS/d(input), S = sum of logits[0,{cls}] over '
             f'voxels whose argmax over classes == {cls}', {'class': cls, 'S': float(s)})
    for ln in layers:
        tag = ln.replace('.', '_')
        save_f32(acts[ln].numpy(), os.path.join(out_dir, 'act_' + tag), f'forward output of module "{ln}"',
                 {'module': ln})
        save_f32(grads[ln].numpy(), os.path.join(out_dir, 'grad_' + tag), f'dS/d(output of module "{ln}"), same S '
                 f'as grad_input', {'module': ln, 'class': cls})
    info = {'class': cls, 'S': float(s), 'voxels_in_class': counts[cls], 'predicted_voxel_counts_per_class': counts,
            'layers': layers,
            'how': 'model.eval(); x.requires_grad_(); forward hooks on the listed modules store the module output and '
                   'register a tensor hook for its gradient; logits = model(x); mask = argmax_c(logits)==class '
                   '(no gradient through the mask); S = logits[0,class][mask].sum(); S.backward()'}
    save_json(info, os.path.join(out_dir, 'gradcam.json'))


# ----------------------------------------------------------------------------------------------------------------------
# writing probabilities like the reader/writer writes segmentations
# ----------------------------------------------------------------------------------------------------------------------
def write_probabilities_nifti(probs, props, reader, path):
    """probs: (C, ...) in the reader's array axis order (as returned by nnU-Net's export, i.e. what is stored in the
    .npz under 'probabilities'). Written as 4D float32 NIfTI (x,y,z,C) aligned with the input image, using exactly the
    axis handling of the reader's write_seg."""
    import nibabel
    from nibabel.orientations import io_orientation, axcodes2ornt, ornt_transform
    vols = []
    for c in range(probs.shape[0]):
        v = probs[c].transpose((2, 1, 0))
        if reader == 'NibabelIOWithReorient':
            im = nibabel.Nifti1Image(v.astype(np.float32), affine=props['nibabel_stuff']['reoriented_affine'])
            img_ornt = io_orientation(props['nibabel_stuff']['original_affine'])
            im = im.as_reoriented(ornt_transform(axcodes2ornt('RAS'), img_ornt))
            v = np.asanyarray(im.dataobj)
        vols.append(v)
    arr = np.stack(vols, -1).astype(np.float32)
    aff = props['nibabel_stuff']['original_affine']
    write_nifti(arr, aff, path, np.float32)


# ----------------------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--nnunet', required=True, help='checkout of MIC-DKFZ/nnUNet (folder that contains nnunetv2/)')
    ap.add_argument('--dna', required=True, help='checkout of MIC-DKFZ/dynamic-network-architectures')
    ap.add_argument('--extra', action='append', default=[], help='more import roots (batchgenerators, acvl_utils)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--steps', type=int, default=120, help='training steps per fold')
    ap.add_argument('--only', default=None, help='comma separated dataset ids to generate (debugging)')
    args = ap.parse_args()

    for p in [args.nnunet, args.dna] + args.extra:
        sys.path.insert(0, os.path.abspath(p))
    os.environ.setdefault('nnUNet_def_n_proc', '2')
    tmp_root = tempfile.mkdtemp(prefix='nnunet_gen_')
    for v in ('nnUNet_raw', 'nnUNet_preprocessed', 'nnUNet_results'):
        os.environ[v] = os.path.join(tmp_root, v)  # only to silence nnunetv2.paths; nothing is written there
    _install_stubs()

    import torch
    import nibabel
    torch.set_num_threads(2)
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from nnunetv2.preprocessing.preprocessors.default_preprocessor import DefaultPreprocessor
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
    from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name
    from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels
    from nnunetv2.imageio.reader_writer_registry import recursive_find_reader_writer_by_name

    def git_rev(p):
        try:
            return subprocess.check_output(['git', '-C', p, 'rev-parse', 'HEAD'], stderr=subprocess.DEVNULL,
                                           text=True).strip()
        except Exception:
            return 'unknown (not a git checkout)'

    out = os.path.abspath(args.out)
    results_root = os.path.join(out, 'results')
    refs_root = os.path.join(out, 'refs')
    manifest = {'generator': 'tests/data/nnunet/make_nnunet_folders.py',
                'command': ' '.join(['/usr/bin/python3'] + sys.argv),
                'python': sys.version.split()[0], 'torch': torch.__version__, 'numpy': np.__version__,
                'nnunet_path': args.nnunet, 'datasets': {}}
    specs = SPECS if args.only is None else [s for s in SPECS if s['name'][7:10] in args.only.split(',')]

    for spec in specs:
        t_ds = time.time()
        name = spec['name']
        print(f'==================== {name}', flush=True)
        ds_seed = int(name[7:10])
        rng = np.random.default_rng(ds_seed)
        model_dir = os.path.join(results_root, name, f"{spec['trainer']}__{spec['plans_name']}__3d_fullres")
        ref_dir = os.path.join(refs_root, name)
        for d in (os.path.join(results_root, name), ref_dir):
            if os.path.isdir(d):
                shutil.rmtree(d)
        os.makedirs(model_dir)
        os.makedirs(ref_dir)
        raw_dir = os.path.join(tmp_root, name, 'raw')
        os.makedirs(raw_dir)

        # ---- synthetic raw cases: 5 training cases + 1 test case
        aff_kw = spec['affine']

        def make_raw(case_id, seed):
            r = np.random.default_rng(seed)
            chans, lab = synth_case(spec['kind'], spec['shape_xyz'], spec['spacing_xyz'], r, spec['n_channels'])
            aff = affine_from(aff_kw['rot'], spec['spacing_xyz'], aff_kw['origin'], aff_kw.get('perm', (0, 1, 2)),
                              aff_kw.get('flips', (1, 1, 1)))
            files = []
            for ci, ch in enumerate(chans):
                f = os.path.join(raw_dir, f'{case_id}_{ci:04d}.nii.gz')
                write_nifti(ch, aff, f, np.int16 if spec['kind'] == 'ct' else np.float32)
                files.append(f)
            lf = os.path.join(raw_dir, f'{case_id}_label.nii.gz')
            write_nifti(lab, aff, lf, np.uint8)
            return files, lf

        train_cases = [make_raw(f'train{i:02d}', ds_seed * 100 + i) for i in range(5)]
        test_files, test_label = make_raw('case', ds_seed * 100 + 99)

        dataset_json = make_dataset_json(spec, len(train_cases))
        # foreground intensity properties (as nnU-Net's DatasetFingerprintExtractor: from foreground voxels of the
        # training cases, percentiles with np.percentile)
        rw = recursive_find_reader_writer_by_name(spec['reader'])()
        fg_vals = [[] for _ in range(spec['n_channels'])]
        shapes = []
        for files, lf in train_cases:
            img, _ = rw.read_images(files)
            seg, _ = rw.read_seg(lf)
            shapes.append(img.shape[1:])
            for c in range(spec['n_channels']):
                fg_vals[c].append(img[c][seg[0] > 0])
        intensity_props = {}
        for c in range(spec['n_channels']):
            v = np.concatenate(fg_vals[c]).astype(np.float64)
            intensity_props[str(c)] = {
                'max': float(np.max(v)), 'mean': float(np.mean(v)), 'median': float(np.median(v)),
                'min': float(np.min(v)), 'percentile_00_5': float(np.percentile(v, 0.5)),
                'percentile_99_5': float(np.percentile(v, 99.5)), 'std': float(np.std(v))}
        tf = spec['transpose_forward']
        median_shape = np.median(np.array(shapes), 0)[tf]
        plans = make_plans(spec, intensity_props, median_shape)
        save_json(dataset_json, os.path.join(model_dir, 'dataset.json'))
        save_json(plans, os.path.join(model_dir, 'plans.json'))

        # ---- preprocess training cases with nnU-Net's DefaultPreprocessor
        pm = PlansManager(plans)
        cm = pm.get_configuration('3d_fullres')
        lm = pm.get_label_manager(dataset_json)
        pre = DefaultPreprocessor(verbose=False)
        cases = []
        for files, lf in train_cases:
            d, s, _ = pre.run_case(files, lf, pm, cm, dataset_json)
            cases.append((d, s))
        print('preprocessed training shape', cases[0][0].shape, flush=True)

        # ---- build network exactly as the predictor does and train each fold
        trainer_class = recursive_find_trainer_class_by_name(spec['trainer'])
        n_in = determine_num_input_channels(pm, cm, dataset_json)
        n_out = lm.num_segmentation_heads
        nets = {}
        for fold in spec['folds']:
            torch.manual_seed(ds_seed * 10 + fold)
            net = trainer_class.build_network_architecture(pm, cm, n_in, n_out, enable_deep_supervision=False)
            fold_cases = [c for i, c in enumerate(cases) if i % len(spec['folds']) != fold or len(spec['folds']) == 1]
            t_tr = time.time()
            n_steps = int(round(args.steps * spec.get('steps_scale', 1.0)))
            opt, logs = train_network(net, fold_cases, spec, lm, n_steps, seed=ds_seed * 10 + fold)
            print(f'fold {fold}: trained {n_steps} steps in {time.time() - t_tr:.1f}s, last losses '
                  f'{[round(float(i), 4) for i in logs["train_losses"][-3:]]}', flush=True)
            ckpt = make_checkpoint(net, opt, logs, plans, spec, dataset_json, fold, spec['grad_scaler'], rng)
            os.makedirs(os.path.join(model_dir, f'fold_{fold}'))
            torch.save(ckpt, os.path.join(model_dir, f'fold_{fold}', 'checkpoint_final.pth'))
            nets[fold] = net

        # ---- test input
        in_names = []
        for ci, f in enumerate(test_files):
            dst = os.path.join(ref_dir, f'case_{ci:04d}.nii.gz')
            shutil.copy(f, dst)
            in_names.append(os.path.basename(dst))
        shutil.copy(test_label, os.path.join(ref_dir, 'case_groundtruth.nii.gz'))

        # ---- reference predictions with nnUNetPredictor (sequential = no multiprocessing)
        preds_meta = []
        for pr in spec['predictions']:
            t_p = time.time()
            predictor = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=pr['mirror'],
                                        perform_everything_on_device=False, device=torch.device('cpu'),
                                        verbose=False, verbose_preprocessing=False, allow_tqdm=False)
            predictor.initialize_from_trained_model_folder(model_dir, use_folds=tuple(pr['folds']),
                                                           checkpoint_name='checkpoint_final.pth')
            pred_tmp = os.path.join(tmp_root, name, 'pred_' + pr['name'])
            os.makedirs(pred_tmp)
            predictor.predict_from_files_sequential([[os.path.join(ref_dir, i) for i in in_names]],
                                                    [os.path.join(pred_tmp, 'case')], save_probabilities=True,
                                                    overwrite=True, folder_with_segs_from_prev_stage=None)
            seg_name = f'pred_{pr["name"]}_labels.nii.gz'
            prob_name = f'pred_{pr["name"]}_probabilities.nii.gz'
            shutil.copy(os.path.join(pred_tmp, 'case.nii.gz'), os.path.join(ref_dir, seg_name))
            probs = np.load(os.path.join(pred_tmp, 'case.npz'))['probabilities']
            import pickle
            with open(os.path.join(pred_tmp, 'case.pkl'), 'rb') as f:
                props = pickle.load(f)
            write_probabilities_nifti(probs, props, spec['reader'], os.path.join(ref_dir, prob_name))
            segimg = nibabel.load(os.path.join(ref_dir, seg_name))
            segarr = np.asanyarray(segimg.dataobj)
            # self check: labels written by nnU-Net == labels recomputed from the probability NIfTI
            parr = np.asanyarray(nibabel.load(os.path.join(ref_dir, prob_name)).dataobj)
            if lm.has_regions:
                chk = np.zeros(segarr.shape, dtype=np.uint8)
                for ri, rc in enumerate(lm.regions_class_order):
                    chk[parr[..., ri] > 0.5] = rc
            else:
                chk = parr.argmax(-1)
            n_mismatch = int((chk != segarr).sum())
            assert n_mismatch == 0, f'probabilities/labels mismatch in {n_mismatch} voxels'
            assert np.allclose(segimg.affine, nibabel.load(test_files[0]).affine)
            mirror_used = predictor.allowed_mirroring_axes if pr['mirror'] else None
            meta = {'name': pr['name'], 'folds': pr['folds'], 'use_mirroring': pr['mirror'],
                    'allowed_mirroring_axes_from_checkpoint': predictor.allowed_mirroring_axes,
                    'effective_mirror_axes': mirror_used,
                    'tile_step_size': 0.5, 'use_gaussian': True, 'device': 'cpu',
                    'labels_file': seg_name, 'labels_dtype': str(segarr.dtype),
                    'probabilities_file': prob_name,
                    'probabilities_layout': '4D float32 NIfTI (x, y, z, channel), same voxel grid and affine as the '
                                            'input; channel = class index (softmax) or region index in '
                                            'regions_class_order order (sigmoid)',
                    'self_check': 'labels == argmax(probabilities) (regions: thresholded in regions_class_order) '
                                  'and label affine == input affine: passed',
                    'label_voxel_counts': {int(k): int(v) for k, v in zip(*np.unique(segarr, return_counts=True))},
                    'seconds': round(time.time() - t_p, 2)}
            if pr.get('intermediates'):
                # the same steps the predictor ran, one by one, to store the intermediate tensors
                pre2 = pm.get_configuration('3d_fullres').preprocessor_class(verbose=False)
                data, _, dprops = pre2.run_case([os.path.join(ref_dir, i) for i in in_names], None, pm, cm,
                                                dataset_json)
                logits = predictor.predict_logits_from_preprocessed_data(torch.from_numpy(data)).cpu()
                save_f32(data, os.path.join(ref_dir, f'pre_{pr["name"]}_data'),
                         'preprocessed network input (after transpose_forward, crop_to_nonzero, normalization, '
                         'resampling): (C, X, Y, Z) in nnU-Net internal axis order')
                save_f32(logits.float().numpy(), os.path.join(ref_dir, f'pre_{pr["name"]}_logits'),
                         f'predict_logits_from_preprocessed_data output (sliding window, gaussian, '
                         f'mirroring={mirror_used}, folds {pr["folds"]}); the predictor accumulates in float16, '
                         f'these are those float16 values converted to float32. (K, X, Y, Z) internal axis order.',
                         {'accumulation_dtype': str(logits.dtype)})
                from nnunetv2.inference.sliding_window_prediction import compute_steps_for_sliding_window
                from acvl_utils.cropping_and_padding.padding import pad_nd_image
                padded, slicer = pad_nd_image(torch.from_numpy(data), cm.patch_size, 'constant', {'value': 0},
                                              True, None)
                steps = compute_steps_for_sliding_window(padded.shape[1:], cm.patch_size, 0.5)
                pp = {
                    'spacing': [float(i) for i in dprops['spacing']],
                    'shape_before_cropping': [int(i) for i in dprops['shape_before_cropping']],
                    'bbox_used_for_cropping': [[int(a), int(b)] for a, b in dprops['bbox_used_for_cropping']],
                    'shape_after_cropping_and_before_resampling':
                        [int(i) for i in dprops['shape_after_cropping_and_before_resampling']],
                    'preprocessed_shape': [int(i) for i in data.shape[1:]],
                    'padded_shape_for_sliding_window': [int(i) for i in padded.shape[1:]],
                    'padding_slicer': [[int(s.start), int(s.stop)] for s in slicer[1:]],
                    'sliding_window_steps': [[int(i) for i in st] for st in steps],
                    'note': 'all shapes/bboxes in nnU-Net internal order (reader array order permuted by '
                            'transpose_forward); spacing in reader array order (before transpose_forward)'}
                if 'nibabel_stuff' in dprops:
                    pp['nibabel_original_affine'] = np.asarray(dprops['nibabel_stuff']['original_affine']).tolist()
                    if 'reoriented_affine' in dprops['nibabel_stuff']:
                        pp['nibabel_reoriented_affine'] = \
                            np.asarray(dprops['nibabel_stuff']['reoriented_affine']).tolist()
                save_json(pp, os.path.join(ref_dir, f'pre_{pr["name"]}_properties.json'))
                meta['intermediates'] = [f'pre_{pr["name"]}_data.f32', f'pre_{pr["name"]}_logits.f32',
                                         f'pre_{pr["name"]}_properties.json']
            preds_meta.append(meta)
            print(f'prediction {pr["name"]}: {meta["label_voxel_counts"]} ({meta["seconds"]}s)', flush=True)

        # ---- gradient / CAM refs and duplicate module paths
        dup = module_duplicates(nets[spec['folds'][0]])
        save_json(dup, os.path.join(ref_dir, 'module_aliases.json'))
        if spec['gradcam']:
            gdir = os.path.join(ref_dir, 'gradcam_fold0')
            os.makedirs(gdir)
            data, _, _ = pre.run_case([os.path.join(ref_dir, i) for i in in_names], None, pm, cm, dataset_json)
            ps = cm.patch_size
            x = np.zeros((1, data.shape[0], *ps), dtype=np.float32)
            sl = tuple(slice(0, min(a, b)) for a, b in zip(data.shape[1:], ps))
            # take the patch around the image centre
            off = [max(0, (a - b) // 2) for a, b in zip(data.shape[1:], ps)]
            src = tuple(slice(o, o + s.stop) for o, s in zip(off, sl))
            x[(0, slice(None)) + sl] = data[(slice(None),) + src]
            gradcam_refs(nets[spec['folds'][0]], x, gdir, ['encoder.stages.2', 'decoder.stages.0'])
            with open(os.path.join(gdir, 'gradcam.json')) as f:
                gj = json.load(f)
            gj['input_crop_from_preprocessed_case'] = {'offset': off, 'size': [s.stop for s in sl]}
            save_json(gj, os.path.join(gdir, 'gradcam.json'))

        # ---- per dataset README-ish json
        info = {
            'model_folder': os.path.relpath(model_dir, out),
            'trainer': spec['trainer'], 'plans': spec['plans_name'], 'configuration': '3d_fullres',
            'folds': spec['folds'], 'reader': spec['reader'],
            'plans_format': 'old (UNet_class_name, <=2.2)' if 'old_arch' in spec else 'architecture (>=2.3)',
            'network_class': spec['old_arch']['UNet_class_name'] if 'old_arch' in spec
            else spec['arch']['network_class_name'],
            'inputs': in_names, 'input_dtype': 'int16' if spec['kind'] == 'ct' else 'float32',
            'input_shape_xyz': list(spec['shape_xyz']), 'input_spacing_xyz': list(spec['spacing_xyz']),
            'input_affine': np.asarray(nibabel.load(os.path.join(ref_dir, in_names[0])).affine).tolist(),
            'predictions': preds_meta,
            'training_steps_per_fold': int(round(args.steps * spec.get('steps_scale', 1.0))),
            'seconds': round(time.time() - t_ds, 1)}
        save_json(info, os.path.join(ref_dir, 'case_info.json'))
        manifest['datasets'][name] = info
        print(f'{name} done in {info["seconds"]}s', flush=True)

    manifest['stubbed_modules'] = STUBS_USED
    manifest['total_seconds'] = round(time.time() - T0, 1)
    manifest['nnunet_commit'] = git_rev(args.nnunet)
    manifest['dna_commit'] = git_rev(args.dna)
    manifest['extra_commits'] = {p: git_rev(p) for p in args.extra}
    if args.only is None:
        save_json(manifest, os.path.join(refs_root, 'manifest.json'))
    shutil.rmtree(tmp_root, ignore_errors=True)
    print('stubbed modules:', STUBS_USED)
    print(f'total {manifest["total_seconds"]}s')


if __name__ == '__main__':
    main()
