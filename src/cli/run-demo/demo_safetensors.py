"""Float32 safetensors read and write with numpy alone (the format: an 8-byte header length, a JSON
header of names, dtypes, shapes and byte offsets, then the raw little-endian data)."""
import json
import struct

import numpy as np


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {t['dtype']}; this demo reads F32 only")
        begin, end = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + begin : 8 + n + end], dtype="<f4").reshape(t["shape"]).copy()
    return out


def write(path, tensors):
    header, offset = {}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.size * 4]}
        offset += a.size * 4
    text = json.dumps(header).encode()
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
