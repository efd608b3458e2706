#!/usr/bin/python3
"""Writes the checkpoints that tests/model/test_torch_checkpoint.cpp reads, plus
expected.json with what the C++ reader (engine/torch/torch_checkpoint.h) must find in them.

Usage: /usr/bin/python3 tests/data/checkpoints/make_test_checkpoints.py tests/data/checkpoints
Needs Debian's python3-torch (1.13) and python3-numpy.

Valid files: real torch.save output (protocols 2, 4 and 5, an nnU-Net-like
checkpoint "saved on a GPU", a plain state dict, parameters and a tensor
subclass) and hand-made archives for cases torch 1.13 cannot write (torch 2.x
layout, numpy 2 module names, boundary views).  Broken files: truncated,
missing records, legacy format, hostile tensor views, bad opcodes, ...
"""

import datetime
import io
import json
import os
import pickle
import random
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import torch.serialization

DTYPE_NAMES = {
    torch.float32: "Float", torch.float64: "Double", torch.float16: "Half",
    torch.bfloat16: "BFloat16", torch.int64: "Long", torch.int32: "Int",
    torch.int16: "Short", torch.int8: "Char", torch.uint8: "Byte",
    torch.bool: "Bool",
}


# ---- expectations ---------------------------------------------------------

def tensor_info(path, t):
    t = t.detach().as_subclass(torch.Tensor)
    flat = t.reshape(-1).double()
    n = flat.numel()
    idx = sorted({0, n // 2, n - 1}) if n else []
    return {
        "path": path, "shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype],
        "stride": list(t.stride()), "offset": t.storage_offset(),
        "sum": float(flat.sum()), "elements": [[i, float(flat[i])] for i in idx],
    }


def walk(value, path, visit):
    """Calls visit(path, value) for every tensor and numpy scalar."""
    if isinstance(value, torch.Tensor):
        visit(path, value)
    elif isinstance(value, np.generic):
        visit(path, value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, (str, int)) and not isinstance(k, bool):
                walk(v, path + [k], visit)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            walk(v, path + [i], visit)


def json_key(k):
    if isinstance(k, str):
        return k
    return json.dumps(mirror(k), separators=(",", ":"))


def mirror(v, numpy_module="numpy.core.multiarray", protocol=2):
    """What segxai::toJson must produce for v."""
    m = lambda x: mirror(x, numpy_module, protocol)
    if isinstance(v, torch.Tensor):
        return "tensor[" + ", ".join(str(s) for s in v.shape) + "]"
    if isinstance(v, np.ndarray) and protocol >= 5:  # _frombuffer(bytearray, ...)
        dtype = {"__global__": "numpy.dtype", "__args__": [v.dtype.str[1:], False, True]}
        return {"__global__": "numpy.core.numeric._frombuffer",
                "__args__": ["bytes[%d]" % v.nbytes, dtype, list(v.shape), "C"]}
    if isinstance(v, np.ndarray):
        return {"__global__": numpy_module + "._reconstruct",
                "__args__": [{"__global__": "numpy.ndarray"}, [0], "bytes[1]"]}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, datetime.date):  # date(bytes) via _codecs.encode
        return {"__global__": "datetime.date", "__args__": ["bytes[4]"]}
    if isinstance(v, torch.device):
        args = [v.type] + ([v.index] if v.index is not None else [])
        return {"__global__": "torch.device", "__args__": args}
    if isinstance(v, (set, frozenset)):
        name = "builtins.set" if isinstance(v, set) else "builtins.frozenset"
        return {"__global__": name, "__args__": [[m(x) for x in v]]}
    if isinstance(v, slice):
        return {"__global__": "builtins.slice",
                "__args__": [m(v.start), m(v.stop), m(v.step)]}
    if isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63:
        return float(v)  # wider than int64: an opaque builtins.int with a number
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, bytes):
        return "bytes[%d]" % len(v)
    if isinstance(v, (list, tuple)):
        return [m(x) for x in v]
    if isinstance(v, dict):
        return {json_key(k): m(x) for k, x in v.items()}
    raise TypeError(type(v))


def expectations(obj, state_dict_key, shared=(), numpy_module="numpy.core.multiarray",
                 protocol=2):
    tensors, numbers = [], []

    def visit(path, value):
        if isinstance(value, torch.Tensor):
            tensors.append(tensor_info(path, value))
        else:
            numbers.append({"path": path, "value": float(value.item()),
                            "global": numpy_module + ".scalar"})

    walk(obj, [], visit)
    sd = obj if state_dict_key == "" else obj[state_dict_key]
    return {"state_dict_key": state_dict_key,
            "state_dict_names": list(sd.keys()),
            "tensors": tensors, "numbers": numbers,
            "shared": [list(g) for g in shared],
            "json": mirror(obj, numpy_module, protocol)}


# ---- objects to save ------------------------------------------------------

def make_network():
    torch.manual_seed(0)
    return torch.nn.Sequential(OrderedDict(
        conv=torch.nn.Conv3d(1, 4, 3, padding=1),
        norm=torch.nn.InstanceNorm3d(4, affine=True),
        bn=torch.nn.BatchNorm3d(4),
        act=torch.nn.LeakyReLU(),
        out=torch.nn.Conv3d(4, 3, 1)))


def network_weights(net):
    w = net.state_dict()  # an OrderedDict with _metadata (BUILD state)
    base = torch.arange(24, dtype=torch.float32) * 0.5
    w["extra.view_offset"] = base[2:14].view(3, 4)        # offset 2
    w["extra.view_strided"] = base.view(4, 6)[1:, ::2]    # offset 6, stride (6, 2)
    w["extra.view_transposed"] = base.view(4, 6).t()      # stride (1, 6)
    w["extra.half"] = torch.linspace(-2, 2, 7).half()
    w["extra.bfloat16"] = torch.tensor([1.5, -2.25]).bfloat16()
    w["extra.bool"] = torch.tensor([True, False, True, True])
    w["extra.int64"] = torch.tensor([[-3, 5], [2**40, -2**40]])
    w["extra.scalar"] = torch.tensor(3.25)                # 0-d
    w["extra.empty"] = torch.empty(0, 3)
    w["extra.expanded"] = torch.tensor([1.0, 2.0]).expand(3, 2)  # stride 0
    return w


SHARED_VIEWS = [[["network_weights", "extra.view_offset"],
                 ["network_weights", "extra.view_strided"],
                 ["network_weights", "extra.view_transposed"]]]


def optimizer_state(net):
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99,
                          nesterov=True, weight_decay=3e-5)
    net(torch.randn(2, 1, 4, 4, 4)).mean().backward()
    opt.step()
    return opt.state_dict()  # {'state': {0: {...}}, 'param_groups': [...]}


def nnunet_like(grad_scaler_state):
    net = make_network()
    rng = np.random.default_rng(1)
    dice = [np.float64(x) for x in rng.random(5)]
    plans = {
        "dataset_name": "Dataset001_Test",
        "configurations": OrderedDict([("3d_fullres", {
            "patch_size": [64, 96, 96], "spacing": [2.5, 0.8, 0.8],
            "batch_size": 2, "architecture": {
                "network_class_name": "PlainConvUNet",
                "arch_kwargs": {"n_stages": 5, "kernel_sizes": [[3, 3, 3]] * 2},
            }})]),
        "foreground_intensity_properties_per_channel": {
            "0": {"mean": 101.5, "std": 45.25, "percentile_99_5": 300.0}},
    }
    return {
        "network_weights": network_weights(net),
        "optimizer_state": optimizer_state(net),
        "grad_scaler_state": grad_scaler_state,
        "logging": {
            "mean_fg_dice": dice,
            "ema_fg_dice": [np.float64(0.5), np.float64(0.625)],
            "dice_per_class_or_region": [[np.float64(0.25), np.float64(0.75)]],
            "train_losses": [np.float32(-0.5), np.float32(-0.75)],
            "lrs": [0.01, 0.0099],
            "counts": [np.int64(-7), np.int32(12), np.uint8(200), np.bool_(True),
                       np.float16(1.5)],
            "an_array": np.arange(3),
        },
        "_best_ema": np.float64(0.873),
        "current_epoch": 7,
        "init_args": {
            "plans": plans, "configuration": "3d_fullres", "fold": 0,
            "dataset_json": {"channel_names": {"0": "CT"},
                             "labels": {"background": 0, "liver": 1},
                             "numTraining": 10, "file_ending": ".nii.gz"},
            "unpack_dataset": True,
            "device": torch.device("cuda", 0),
            "misc": {"a_set": {1, 2}, "a_frozenset": frozenset({3}),
                     "a_slice": slice(1, 10, 2), "big": 2**70,
                     "neg_big": -2**70, "u64": 2**64 - 1, "i64min": -2**63,
                     "bytes": b"\x00\xff", "no_bytes": b"",
                     "unicode": "Gr\u00f6\u00dfe \u2713", (1, 2): "tuple key",
                     "neg": -123456789, "float": -1.0e-300,
                     "date": datetime.date(2020, 1, 2)},
        },
        "trainer_name": "nnUNetTrainer",
        "inference_allowed_mirroring_axes": (0, 1, 2),
    }


def save_as_if_on_gpu(obj, path, **kwargs):
    """torch.save with every storage tagged 'cuda:0', as on a GPU machine."""
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        torch.save(obj, path, **kwargs)
    finally:
        torch.serialization.location_tag = original


class MyTensor(torch.Tensor):
    """A tensor subclass: pickled through _rebuild_from_type_v2."""


# ---- hand-made archives ---------------------------------------------------

class Storage:
    def __init__(self, storage_type, key, numel, location="cpu"):
        self.pid = ("storage", storage_type, key, location, numel)


class Call:
    """Pickles as func(*args)."""
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


class CraftPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, Storage) else None


def craft_pickle(obj, protocol=2):
    buf = io.BytesIO()
    CraftPickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


def tensor(storage, offset, size, stride, *extra):
    return Call(torch._utils._rebuild_tensor_v2, storage, offset, size, stride,
                False, OrderedDict(), *extra)


def write_zip(path, records, prefix="archive"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in records:
            z.writestr(prefix + "/" + name, data)


def float_bytes(n):
    return np.arange(n, dtype=np.float32).tobytes()


def crafted_archive(path, obj, storages, extra=(), protocol=2):
    records = [("data.pkl", craft_pickle(obj, protocol))]
    records += [("data/" + k, v) for k, v in storages.items()]
    records += list(extra) + [("version", b"3\n")]
    write_zip(path, records)


def zip_records(path):
    with zipfile.ZipFile(path) as z:
        return [(n, z.read(n)) for n in z.namelist()]


def rezip(src, dst, drop=(), prefix=None, patch=None, add=()):
    """Copies a torch.save zip, dropping/renaming/patching records."""
    out = []
    for name, data in zip_records(src):
        old_prefix, rel = name.split("/", 1)
        if rel in drop:
            continue
        if patch and rel == "data.pkl":
            data = patch(data)
        out.append((rel, data))
    write_zip(dst, out + list(add), prefix or old_prefix)


# ---- the files ------------------------------------------------------------

def write_valid(out):
    expected = {}
    path = lambda name: os.path.join(out, name)

    sd = make_network().state_dict()
    torch.save(sd, path("plain_state_dict.pth"))  # records under plain_state_dict/
    expected["plain_state_dict.pth"] = expectations(sd, "")

    torch.manual_seed(1)
    params = OrderedDict(weight=torch.nn.Parameter(torch.randn(3, 2)),
                         subclass=torch.arange(4.0).as_subclass(MyTensor))
    with open(path("parameters.pth"), "wb") as f:  # records under archive/
        torch.save(params, f)
    expected["parameters.pth"] = expectations(params, "")

    ckpt = nnunet_like(None)
    save_as_if_on_gpu(ckpt, path("nnunet_like.pth"))  # protocol 2 (default)
    expected["nnunet_like.pth"] = expectations(ckpt, "network_weights", SHARED_VIEWS)

    scaler = {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
              "growth_interval": 2000, "_growth_tracker": 3}
    for protocol in (4, 5):
        name = "nnunet_like_p%d.pth" % protocol
        ckpt_p = nnunet_like(scaler)
        save_as_if_on_gpu(ckpt_p, path(name), pickle_protocol=protocol)
        expected[name] = expectations(ckpt_p, "network_weights", SHARED_VIEWS,
                                      protocol=protocol)

    # The layout of torch >= 2.1 with numpy >= 2 module names, by hand.
    rezip(path("nnunet_like.pth"), path("torch2_numpy2.pth"),
          prefix="checkpoint_final",
          patch=lambda d: d.replace(b"numpy.core.multiarray\n",
                                    b"numpy._core.multiarray\n"),
          add=[("byteorder", b"little"), (".data/version", b"3\n"),
               (".data/serialization_id", b"0123456789")])
    expected["torch2_numpy2.pth"] = expectations(
        ckpt, "network_weights", SHARED_VIEWS, "numpy._core.multiarray")

    write_crafted_edges(path("crafted_edges.pth"), expected)
    return expected


def global_stub(module, name):
    """A function that pickles as module.name, for globals of newer torch."""
    mod = sys.modules[module]
    if not hasattr(mod, name):
        def stub(*args):
            raise NotImplementedError(name)
        stub.__module__, stub.__name__, stub.__qualname__ = module, name, name
        setattr(mod, name, stub)
    return getattr(mod, name)


def write_crafted_edges(file, expected):
    """Views at the storage boundaries and the rebuild variants of other
    torch versions, which torch 1.13 does not write itself."""
    f0 = lambda: Storage(torch.FloatStorage, "0", 12)
    obj = OrderedDict([
        ("tail", tensor(f0(), 9, (3,), (1,))),
        ("broadcast", tensor(f0(), 11, (1000, 3), (0, 0))),
        ("old_rebuild", Call(torch._utils._rebuild_tensor, f0(), 0, (2, 2), (1, 2))),
        ("v2_metadata", tensor(f0(), 4, (2,), (3,), {"meta": 1})),
        ("with_state", Call(global_stub("torch._utils", "_rebuild_parameter_with_state"),
                            tensor(Storage(torch.DoubleStorage, "1", 4), 0, (4,), (1,)),
                            True, OrderedDict(), {"foo": 1})),
        ("cuda_type", tensor(Storage(torch.cuda.FloatStorage, "2", 2, "cuda:1"),
                             0, (2,), (1,))),
        ("untyped", tensor(Storage(torch.UntypedStorage, "3", 5), 1, (4,), (1,))),
        ("bool_bytes", tensor(Storage(torch.BoolStorage, "4", 4), 0, (4,), (1,))),
        ("empty_at_end", tensor(f0(), 12, (0,), (1,))),
    ])
    storages = {"0": float_bytes(12),
                "1": np.array([1.5, -2.5, 3.5, 4.0]).tobytes(),
                "2": np.array([7.0, 8.0], dtype=np.float32).tobytes(),
                "3": bytes([1, 2, 3, 4, 250]),
                "4": bytes([0, 1, 2, 255])}
    crafted_archive(file, obj, storages)
    base = torch.arange(12, dtype=torch.float32)
    tensors = OrderedDict([
        ("tail", base.as_strided((3,), (1,), 9)),
        ("broadcast", base.as_strided((1000, 3), (0, 0), 11)),
        ("old_rebuild", base.as_strided((2, 2), (1, 2), 0)),
        ("v2_metadata", base.as_strided((2,), (3,), 4)),
        ("with_state", torch.tensor([1.5, -2.5, 3.5, 4.0], dtype=torch.float64)),
        ("cuda_type", torch.tensor([7.0, 8.0])),
        ("untyped", torch.tensor([1, 2, 3, 4, 250], dtype=torch.uint8)[1:]),
        ("bool_bytes", torch.tensor([False, True, True, True])),
        ("empty_at_end", base.as_strided((0,), (1,), 12)),
    ])
    exp = expectations(tensors, "")
    exp["json"] = None  # hand-made calls have no Python mirror
    expected[os.path.basename(file)] = exp


def hand_pickle(ops):
    return b"\x80\x02" + ops


def write_broken(out):
    """Broken files and the substrings their error message must contain."""
    path = lambda name: os.path.join(out, name)
    errors = {}
    good = open(path("nnunet_like.pth"), "rb").read()
    not_zip = ["not a PyTorch checkpoint (torch.save zip)",
               "legacy non-zip checkpoints from torch < 1.6 are not supported",
               "re-save with torch >= 1.6"]
    corrupt_zip = ["damaged checkpoint", "truncated or corrupt"]
    misfit = ["damaged checkpoint", "does not fit its storage of 12 elements"]

    def raw(name, data, expect):
        open(path(name), "wb").write(data)
        errors[name] = expect

    raw("truncated.pth", good[: len(good) * 6 // 10], corrupt_zip)
    raw("truncated_tail.pth", good[:-10], corrupt_zip)
    raw("empty.pth", b"", ["not a PyTorch checkpoint", "the file is empty"])
    raw("random.bin", random.Random(5).randbytes(4096), not_zip)
    raw("random_pk.bin", b"PK\x03\x04" + random.Random(6).randbytes(4096),
        corrupt_zip)
    torch.save({"w": torch.ones(3)}, path("legacy.pth"),
               _use_new_zipfile_serialization=False)
    errors["legacy.pth"] = not_zip

    rezip(path("nnunet_like.pth"), path("no_data_pkl.pth"), drop=["data.pkl"])
    errors["no_data_pkl.pth"] = [
        "damaged checkpoint: record 'nnunet_like/data.pkl' is missing"]
    rezip(path("nnunet_like.pth"), path("missing_storage.pth"), drop=["data/3"])
    errors["missing_storage.pth"] = [
        "damaged checkpoint: storage 'nnunet_like/data/3' is missing"]
    rezip(path("plain_state_dict.pth"), path("big_endian.pth"),
          add=[("byteorder", b"big")])
    errors["big_endian.pth"] = ["big-endian", "only little-endian"]
    rezip(path("plain_state_dict.pth"), path("no_version.pth"), drop=["version"])
    errors["no_version.pth"] = corrupt_zip + ['hasRecord("version")']

    def crafted(name, obj, expect, storages=None, extra=()):
        storages = {"0": float_bytes(12)} if storages is None else storages
        crafted_archive(path(name), obj, storages, extra)
        errors[name] = expect

    f0 = lambda n=12: Storage(torch.FloatStorage, "0", n)
    crafted("oob_size.pth", {"t": tensor(f0(), 0, (4, 4), (4, 1))}, misfit)
    crafted("oob_offset.pth", {"t": tensor(f0(), 10, (3,), (1,))}, misfit)
    crafted("oob_empty_offset.pth", {"t": tensor(f0(), 13, (0,), (1,))}, misfit)
    crafted("negative_stride.pth", {"t": tensor(f0(), 5, (3,), (-1,))}, misfit)
    crafted("negative_size.pth", {"t": tensor(f0(), 0, (-1,), (1,))}, misfit)
    crafted("overflow_view.pth",
            {"t": tensor(f0(), 0, (2**62, 4), (4, 2**62))}, misfit)
    crafted("huge_offset.pth", {"t": tensor(f0(), 2**63 - 1, (1,), (1,))}, misfit)
    crafted("rank_mismatch.pth", {"t": tensor(f0(), 0, (2, 2), (1,))},
            ["damaged checkpoint: a tensor has 2 sizes but 1 strides"])
    crafted("bad_dtype.pth",
            {"t": tensor(Storage(torch.QInt8Storage, "0", 12), 0, (12,), (1,))},
            ["unsupported storage dtype 'torch.QInt8Storage'",
             "storage 'archive/data/0'"])
    crafted("size_mismatch.pth", {"t": tensor(f0(16), 0, (12,), (1,))},
            ["damaged checkpoint", "storage 'archive/data/0' holds 48 bytes "
             "instead of 64"])
    crafted("two_types.pth",
            {"a": tensor(f0(), 0, (12,), (1,)),
             "b": tensor(Storage(torch.DoubleStorage, "0", 6), 0, (6,), (1,))},
            ["storage 'archive/data/0' is used with two types"])
    crafted("bad_storage_ref.pth", {"t": tensor(Storage(torch.FloatStorage, 0, 12),
                                                0, (12,), (1,))},
            ["damaged checkpoint: malformed storage reference"])
    crafted("not_a_storage.pth", {"t": tensor(5, 0, (1,), (1,))},
            ["damaged checkpoint: a tensor refers to int instead of a storage"])
    write_zip(path("bad_version.pth"), [("data.pkl", craft_pickle({"a": 1})),
                                        ("version", b"abc\n")])
    errors["bad_version.pth"] = corrupt_zip

    def pickled(name, data, expect):
        write_zip(path(name), [("data.pkl", data), ("version", b"3\n")])
        errors[name] = expect

    pickled("bad_opcode.pth", pickle.dumps({"a": 1}, protocol=0),
            ["unsupported pickle opcode PUT (0x70)"])
    pickled("unknown_opcode.pth", hand_pickle(b"\xff."),
            ["unknown pickle opcode 0xff"])
    pickled("persid.pth", hand_pickle(b"P0\n."), ["PERSID (0x50)"])
    pickled("no_stop.pth", hand_pickle(b"}"), ["ends without STOP"])
    pickled("underflow.pth", hand_pickle(b"a."), ["stack underflow"])
    pickled("bad_memo.pth", hand_pickle(b"h\x05."),
            ["memo entry 5 is not defined"])
    pickled("protocol6.pth", b"\x80\x06N.", ["pickle protocol 6"])
    pickled("cycle.pth", hand_pickle(b"]q\x00h\x00a."),
            ["nested more than 200 levels"])
    pickled("deep.pth", hand_pickle(b"]" * 1000 + b"a" * 999 + b"."),
            ["nested more than 200 levels"])
    # "billion laughs": 40 levels of (x, x) expand to 2**40 strings.
    bomb = b"X\x00\x04\x00\x00" + b"x" * 1024 + b"q\x00"
    for i in range(40):
        bomb += b"h" + bytes([i]) + b"h" + bytes([i]) + b"\x86q" + bytes([i + 1])
    pickled("bomb.pth", hand_pickle(bomb + b"."), ["expand to more than"])
    pickled("load_from_bytes.pth", pickle.dumps(torch.ones(2), protocol=2),
            ["torch.storage._load_from_bytes"])
    return errors


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    expected = {"valid": write_valid(out), "errors": write_broken(out)}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, allow_nan=False)
    print("wrote %d valid and %d broken files to %s"
          % (len(expected["valid"]), len(expected["errors"]), out))


if __name__ == "__main__":
    main()
