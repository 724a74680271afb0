"""The data index (image paths and their normalisation) and the datasets that DataLoader workers decode."""
import json

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from .images import decode, eval_view, train_view


class Index:
    """Every image a run may use, by id: path and normalisation (mean/std of its dataset)."""

    def __init__(self, path):
        j = json.load(open(path))
        self.paths = j['paths']
        self.norm_of = torch.tensor(j['norm'], dtype=torch.long)
        self.mean = torch.tensor([n['mean'] for n in j['norms']], dtype=torch.float32)
        self.std = torch.tensor([n['std'] for n in j['norms']], dtype=torch.float32)

    def __len__(self):
        return len(self.paths)


class Normalizer:
    """uint8 [B,S,S,3] on the device -> normalised float [B,3,S,S] with each image's dataset mean/std."""

    def __init__(self, index, device):
        self.mean = index.mean.to(device)
        self.std = index.std.to(device)
        self.norm_of = index.norm_of

    def __call__(self, pixels, ids):
        n = self.norm_of[ids].to(pixels.device)
        x = pixels.permute(0, 3, 1, 2).float() / 255
        return (x - self.mean[n][:, :, None, None]) / self.std[n][:, :, None, None]


class _DecodedCache:
    """Decoded images of one task, per worker process, up to a size limit."""

    def __init__(self, limit_bytes):
        self.limit = limit_bytes
        self.used = 0
        self.items = {}

    def get(self, key, path):
        img = self.items.get(key)
        if img is None:
            img = decode(path)
            size = img.width * img.height * 3
            if self.used + size <= self.limit:
                self.items[key] = img
                self.used += size
        return img


class PlanChunks(Dataset):
    """Item k is chunk k of the plan's samples, `chunk` samples of one step: (uint8 [c,S,S,3], ids [c]).

    A step is cut into chunks so that every loader process decodes part of each batch (per-sample work
    spread over all of them, in the plan's order), rather than one process decoding a whole batch.
    """

    def __init__(self, index, plan, size, cache_mb, chunk):
        self.paths = index.paths
        self.samples = plan['samples']
        self.seeds = plan['seeds']
        self.size = size
        self.cache_mb = cache_mb
        self.batch = self.samples.shape[1]
        self.chunk = max(1, min(chunk, self.batch))
        self.per_step = -(-self.batch // self.chunk)
        self.cache = None

    def __len__(self):
        return self.samples.shape[0] * self.per_step

    def __getitem__(self, k):
        if self.cache is None:  # made in the worker process, so each keeps its own
            self.cache = _DecodedCache(self.cache_mb * 2 ** 20)
        step, j = divmod(k, self.per_step)
        lo, hi = j * self.chunk, min(self.batch, (j + 1) * self.chunk)
        ids = self.samples[step, lo:hi].tolist()
        seeds = self.seeds[step, lo:hi].tolist()
        pixels = np.stack([train_view(self.cache.get(i, self.paths[i]), self.size, s) for i, s in zip(ids, seeds)])
        return torch.from_numpy(pixels), self.samples[step, lo:hi].long()


def plan_steps(chunks, plan, per_step):
    """Reassembles a loader's chunks (in order) into steps: (uint8 [B,S,S,3], ids [B], token ids [B,L])."""
    px, ids = [], []
    tokens, captions = plan['tokens'], plan['captions']
    step = 0
    for p, i in chunks:
        px.append(p)
        ids.append(i)
        if len(px) == per_step:
            yield torch.cat(px), torch.cat(ids), tokens[captions[step].long()].long()
            px, ids = [], []
            step += 1


class EvalViews(Dataset):
    """Item i is the evaluation view of index image i: (uint8 [S,S,3], i). Which images a pass reads is
    the sampler's business, so one long-lived loader serves every evaluation."""

    def __init__(self, index, size):
        self.paths = index.paths
        self.size = size

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return torch.from_numpy(eval_view(decode(self.paths[i]), self.size)), i


class IdSampler(Sampler):
    """The ids of the current evaluation pass; replaced between passes (the loader's processes stay)."""

    def __init__(self):
        self.ids = []

    def __iter__(self):
        return iter(self.ids)

    def __len__(self):
        return len(self.ids)
