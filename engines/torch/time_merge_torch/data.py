"""The data index (image paths and their normalisation) and the datasets that DataLoader workers decode."""
import json

import numpy as np
import torch
from torch.utils.data import Dataset

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


class PlanBatches(Dataset):
    """Item k is training step k of a plan: (uint8 images [B,S,S,3], sample ids [B], token ids [B,L])."""

    def __init__(self, index, plan, size, cache_mb):
        self.paths = index.paths
        self.samples = plan['samples']
        self.seeds = plan['seeds']
        self.captions = plan['captions']
        self.tokens = plan['tokens']
        self.size = size
        self.cache_mb = cache_mb
        self.cache = None

    def __len__(self):
        return self.samples.shape[0]

    def __getitem__(self, step):
        if self.cache is None:  # made in the worker process, so each keeps its own
            self.cache = _DecodedCache(self.cache_mb * 2 ** 20)
        ids = self.samples[step].tolist()
        seeds = self.seeds[step].tolist()
        pixels = np.stack([train_view(self.cache.get(i, self.paths[i]), self.size, s) for i, s in zip(ids, seeds)])
        return torch.from_numpy(pixels), self.samples[step].long(), self.tokens[self.captions[step].long()].long()


class EvalImages(Dataset):
    """Evaluation views of a list of image ids: (uint8 [S,S,3], id)."""

    def __init__(self, index, ids, size):
        self.paths = index.paths
        self.ids = ids
        self.size = size

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return torch.from_numpy(eval_view(decode(self.paths[self.ids[i]]), self.size)), self.ids[i]
