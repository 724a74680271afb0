"""A safetensors merge in PyTorch computed the way mergekit computes it, for benchmarks/merge-e2e.ts.

    python3 benchmarks/merge_e2e_torch.py linear|ties OUT BASE EXPERT... [--density D] [--weights W...]

linear: per tensor, stack the experts, multiply by the weights, sum, divide by the weight sum
(mergekit's merge_methods/linear.py). ties: per tensor, task vectors against the base, each trimmed to
its top `density` fraction by |value| through argsort (mergekit's sparsify.magnitude), sign elected by
the weighted sum, the agreeing values averaged with their weights (mergekit's generalized_task_arithmetic
with TIES). Files are read and written with the safetensors layout directly (Debian ships no safetensors
package): one read per tensor, torch.frombuffer, the output header first and each tensor's bytes after.
Prints the wall time of the whole run (reads, merge, write, fsync, rename) in seconds.
"""

import json
import os
import struct
import sys
import time

import torch

t0 = time.perf_counter()

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def open_safetensors(path):
    f = open(path, "rb")
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return f, 8 + n, header


def read_tensor(f, data_start, entry):
    begin, end = entry["data_offsets"]
    f.seek(data_start + begin)
    buf = bytearray(end - begin)
    f.readinto(buf)
    return torch.frombuffer(buf, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])


def magnitude(tensor, density):
    # mergekit sparsify.magnitude: keep the top k = density * numel entries by |value| (argsort).
    if density >= 1:
        return tensor
    k = int(density * tensor.numel())
    mask = torch.zeros_like(tensor)
    w = tensor.abs().view(-1)
    topk = torch.argsort(w, descending=True)[:k]
    mask.view(-1)[topk] = 1
    return tensor * mask


def linear(base, experts, weights):
    stacked = torch.stack(experts, dim=0)
    w = torch.tensor(weights, dtype=stacked.dtype).view(-1, *([1] * base.dim()))
    return (stacked * w).sum(dim=0) / w.sum(dim=0)


def ties(base, experts, weights, density):
    deltas = torch.stack([magnitude(e - base, density) for e in experts], dim=0)
    w = torch.tensor(weights, dtype=deltas.dtype).view(-1, *([1] * base.dim()))
    weighted = deltas * w
    sign = (weighted.sum(dim=0) >= 0).to(deltas.dtype) * 2 - 1
    mask = deltas.sign() == sign
    mixed = (weighted * mask).sum(dim=0)
    divisor = (w * mask).sum(dim=0)
    divisor[divisor.abs() < 1e-8] = 1
    return base + mixed / divisor


def main():
    args = sys.argv[1:]
    method, out, base_path = args[0], args[1], args[2]
    rest = args[3:]
    density = 0.2
    if "--density" in rest:
        i = rest.index("--density")
        density = float(rest[i + 1])
        del rest[i : i + 2]
    experts_paths = rest
    weights = [1.0] * len(experts_paths)
    base_f, base_start, header = open_safetensors(base_path)
    opened = [open_safetensors(p) for p in experts_paths]
    names = list(header.keys())
    slots, offset = {}, 0
    for name in names:
        size = header[name]["data_offsets"][1] - header[name]["data_offsets"][0]
        slots[name] = {"dtype": header[name]["dtype"], "shape": header[name]["shape"], "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(slots, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{out}.tmp"
    with open(tmp, "wb") as w:
        w.write(struct.pack("<Q", len(text)))
        w.write(text)
        for name in names:
            base = read_tensor(base_f, base_start, header[name])
            experts = [read_tensor(f, start, h[name]) for f, start, h in opened]
            merged = linear(base, experts, weights) if method == "linear" else ties(base, experts, weights, density)
            w.write(merged.contiguous().numpy().tobytes())
        w.flush()
        os.fsync(w.fileno())
    os.rename(tmp, out)
    print(f"{time.perf_counter() - t0:.4f}")


if __name__ == "__main__":
    main()
