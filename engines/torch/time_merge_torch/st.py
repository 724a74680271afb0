"""safetensors read/write with numpy only (the safetensors package is not installed everywhere)."""
import json
import os
import struct

import numpy as np
import torch

_NP = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I32': np.int32, 'I64': np.int64, 'U8': np.uint8}
_BACK = {np.dtype(v): k for k, v in _NP.items()}


def read(path):
    """All tensors of a file as float32/int torch tensors (BF16 widened to float32), and the metadata."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f'{path}: not a safetensors file (too short)')
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {}) or {}
    base = 8 + n
    out = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        buf = raw[base + begin:base + end]
        dtype, shape = info['dtype'], info['shape']
        if dtype == 'BF16':
            bits = np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        elif dtype in _NP:
            arr = np.frombuffer(buf, dtype=_NP[dtype])
        else:
            raise ValueError(f'{path}: tensor "{name}" has unsupported dtype {dtype}')
        t = torch.from_numpy(arr.copy()).reshape(shape)
        out[name] = t.float() if t.is_floating_point() else t
    return out, meta


def write(path, tensors, metadata=None):
    """Writes name -> tensor (float32 unless integer) under a temporary name, then renames."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        a = t.detach().cpu()
        a = (a.float() if a.is_floating_point() else a).contiguous().numpy()
        if np.dtype(a.dtype.name) not in _BACK:
            raise ValueError(f'{path}: cannot write tensor "{name}" of dtype {a.dtype}')
        b = a.tobytes()  # little-endian hosts only (x86, arm64), as safetensors is little-endian
        header[name] = {'dtype': _BACK[np.dtype(a.dtype.name)], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
