#!/usr/bin/python3
"""Compatibility of veil's safetensors files with the published format.

Debian has no `safetensors` Python package, so this script carries its own
reader and writer, written from the format as Hugging Face publishes it
(README.md of huggingface/safetensors, "Format" and its notes): an 8-byte
little-endian header length N; N bytes of UTF-8 JSON, an object mapping
tensor names to {"dtype", "shape", "data_offsets": [begin, end]}, with an
optional "__metadata__" object of strings; then the byte buffer, which the
tensors' ranges tile exactly; little-endian, row-major.

It checks, with the C side driven through `test_model` (argv[1]):
  1. a file veil writes reads here, to the same tensors and metadata;
  2. files written here (compact as Hugging Face's serializer writes them,
     and indented with ASCII escapes as any JSON library may) read in veil
     to the same tensors, bit for bit, and metadata;
  3. a veil model file is what PyTorch's nn.Linear layers hold: here,
     x @ weight.T + bias through the layers gives the probabilities veil
     predicts.

Prints TAP; skips everything (1..0 # SKIP) only when numpy is missing.
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("1..0 # SKIP numpy is not installed (Debian: python3-numpy)")
    sys.exit(0)

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U8": "u1", "BOOL": "?"}


def no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError("duplicate key %r" % k)
        out[k] = v
    return out


def load(data):
    """Tensors (name -> numpy array) and metadata of a safetensors file."""
    if len(data) < 8:
        raise ValueError("shorter than the header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError("bad header length")
    text = data[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("the header is not an object")
    header = json.loads(text, object_pairs_hook=no_duplicates)
    meta = header.pop("__metadata__", None)
    if meta is not None and not all(isinstance(v, str) for v in meta.values()):
        raise ValueError("metadata values must be strings")
    buf = data[8 + n:]
    tensors, at = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        if begin != at or end < begin:
            raise ValueError("tensor %r: data_offsets leave a hole or overlap" % name)
        dt = np.dtype(DTYPES[info["dtype"]])
        count = math.prod(info["shape"])
        if count * dt.itemsize != end - begin:
            raise ValueError("tensor %r: shape and data_offsets disagree" % name)
        tensors[name] = np.frombuffer(buf, dtype=dt, count=count, offset=begin).reshape(info["shape"])
        at = end
    if at != len(buf):
        raise ValueError("bytes after the last tensor")
    return tensors, meta


def save(tensors, meta, pretty=False):
    """A float32 safetensors file: tensors sorted by name, as Hugging Face
    sorts same-dtype tensors; pretty indents and escapes non-ASCII."""
    header, chunks, offset = {}, [], 0
    if meta is not None:
        header["__metadata__"] = meta
    for name in sorted(tensors):
        b = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(tensors[name])),
                        "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    if pretty:
        h = json.dumps(header, indent=2, ensure_ascii=True).encode()
    else:
        h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)


def c_tool(*args):
    return subprocess.run([sys.argv[1]] + list(args), check=True, capture_output=True, text=True).stdout


def c_read(path):
    """What `test_model st-read` prints: metadata and tensors with exact bits."""
    meta, tensors = {}, {}
    for line in c_tool("st-read", path).splitlines():
        if line.startswith("meta "):
            _, k, v = line.split(" ", 2)
            meta[k] = v
        elif line.startswith("tensor "):
            head, _, bits = line.partition(" :")
            parts = head.split()
            name, rank = parts[1], int(parts[2])
            shape = [int(d) for d in parts[3:3 + rank]]
            words = [int(w, 16) for w in bits.split()]
            tensors[name] = np.array(words, dtype="<u4").view("<f4").reshape(shape)
    return tensors, meta


results = []


def check(desc, fn):
    try:
        fn()
        results.append((True, desc, None))
    except Exception as e:  # report every failure, keep going
        results.append((False, desc, "%s: %s" % (type(e).__name__, e)))


def same(a, b):
    assert a.dtype == np.float32 and b.dtype == np.float32, (a.dtype, b.dtype)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.tobytes() == b.tobytes(), (a, b)


def check_c_written():
    path = os.path.join(tmp, "c.safetensors")
    c_tool("st-write", path)
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0, "the header is padded to a multiple of 8"
    tensors, meta = load(data)
    assert meta == {"framework": "veil", "note": "caf\u00e9 \"quoted\" \\ back"}, meta
    assert sorted(tensors) == ["alpha", "beta", "delta.T", "empty", "gamma.scalar"], sorted(tensors)
    same(tensors["alpha"], (np.arange(6, dtype=np.float32) * np.float32(0.5) - 1).reshape(2, 3))
    same(tensors["beta"], np.array([1e-3, -2.5, 3.4028235e38, -0.0], dtype=np.float32))
    same(tensors["gamma.scalar"], np.array(42.25, dtype=np.float32))
    same(tensors["delta.T"], np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32).T)
    same(tensors["empty"], np.zeros((0, 5), dtype=np.float32))
    assert np.signbit(tensors["beta"][3]), "-0.0 keeps its sign"


def python_tensors():
    rng = np.random.default_rng(7)
    return {
        "w": rng.standard_normal((3, 2)).astype(np.float32),
        "b": np.array([0.5, -0.25, 1e-30], dtype=np.float32),
        "s": np.array(-3.75, dtype=np.float32),
        "z": np.zeros((2, 0), dtype=np.float32),
        "layer.9.cube": rng.standard_normal((2, 2, 2)).astype(np.float32),
        "special": np.array([np.inf, -np.inf, np.finfo(np.float32).tiny / 4], dtype=np.float32),
    }


def check_python_written(pretty):
    def run():
        meta = {"format": "pt", "unicode": "\u00fcn\u00ef \u2713 \U0001f600", "quote": "a \"b\" \\c"}
        ts = python_tensors()
        path = os.path.join(tmp, "py-%s.safetensors" % ("pretty" if pretty else "compact"))
        with open(path, "wb") as f:
            f.write(save(ts, meta, pretty))
        got, got_meta = c_read(path)
        assert got_meta == meta, got_meta
        assert sorted(got) == sorted(ts), sorted(got)
        for k in ts:
            same(got[k], ts[k])
        # the reader here agrees with its own writer
        back, back_meta = load(open(path, "rb").read())
        assert back_meta == meta
        for k in ts:
            same(back[k], ts[k])
    return run


def check_model_file():
    path = os.path.join(tmp, "model.safetensors")
    out = c_tool("model-write", path)
    xs = np.array([[float(v) for v in l.split()[1:]] for l in out.splitlines() if l.startswith("x ")],
                  dtype=np.float32)
    want = np.array([[float(v) for v in l.split()[1:]] for l in out.splitlines() if l.startswith("p ")])
    tensors, meta = load(open(path, "rb").read())
    assert meta["format"] == "veil-model" and meta["format_version"] == "1", meta
    manifest = json.loads(meta["veil.manifest"], object_pairs_hook=no_duplicates)
    arch = manifest["architecture"]
    assert arch == {"kind": "mlp", "inputs": 4, "classes": 3, "hidden": [5, 3], "activation": "relu"}, arch
    widths = [arch["inputs"]] + arch["hidden"] + [arch["classes"]]
    names = sorted("layers.%d.%s" % (i, k) for i in range(len(widths) - 1) for k in ("weight", "bias"))
    assert sorted(tensors) == names, sorted(tensors)
    h = xs.astype(np.float64)
    for i in range(len(widths) - 1):
        w, b = tensors["layers.%d.weight" % i], tensors["layers.%d.bias" % i]
        assert w.shape == (widths[i + 1], widths[i]), ("nn.Linear's [out, in]", w.shape)
        assert b.shape == (widths[i + 1],), b.shape
        h = h @ w.T.astype(np.float64) + b
        if i < len(widths) - 2:
            h = np.maximum(h, 0)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    assert np.allclose(probs, want, rtol=1e-5, atol=1e-6), (probs, want)


tmp = tempfile.mkdtemp(prefix="veil-st-")
try:
    check("a file veil writes reads here with the same tensors and metadata", check_c_written)
    check("a compact file written here reads in veil bit for bit", check_python_written(False))
    check("an indented, ASCII-escaped file written here reads in veil bit for bit", check_python_written(True))
    check("a veil model file computes here, as nn.Linear layers, what veil predicts", check_model_file)
finally:
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)

print("1..%d" % len(results))
for i, (ok, desc, why) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    if why:
        print("# " + why.replace("\n", "\n# "))
sys.exit(0 if all(r[0] for r in results) else 1)
