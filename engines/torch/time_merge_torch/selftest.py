"""Cross-checks against the TypeScript implementation: cases come as JSON on stdin, answers go to stdout.

    {"lr": [[step, total, base, warmup], ...],
     "accuracy": [{"sims": [...], "n": n, "classes": c, "targets": [...]}, ...],
     "recall": [{"sims": [...], "n": n, "k": k}, ...],
     "accumulation": {"batch": 8, "micro": 3}}
"""
import json
import sys

import torch

from .evaluate import accuracy, recall
from .model import Clip, ClipConfig, Tower, clip_loss
from .train import contrastive_backward, cosine_lr


def accumulation_gap(batch, micro):
    """Largest gradient difference between one full batch and the same batch in micro-batches."""
    torch.manual_seed(0)
    c = ClipConfig(16, 16, 8, Tower(32, 2, 2, 64), 12, 100, Tower(16, 2, 2, 32))
    model = Clip(c)
    images = torch.randn(batch, 3, 16, 16)
    tokens = torch.randint(1, 98, (batch, 12))
    tokens[:, 7] = 99
    cpu = torch.device('cpu')
    loss_full = contrastive_backward(model, images, tokens, batch, cpu, clip_loss)
    full = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    loss_micro = contrastive_backward(model, images, tokens, micro, cpu, clip_loss)
    gap = max(float((p.grad - full[n]).abs().max() / full[n].abs().max().clamp(min=1e-12)) for n, p in model.named_parameters())
    return {'loss_gap': abs(loss_full - loss_micro), 'grad_gap': gap, 'parameters': len(full)}


def main():
    cases = json.load(sys.stdin)
    out = {}
    if 'lr' in cases:
        out['lr'] = [cosine_lr(*c) for c in cases['lr']]
    if 'accuracy' in cases:
        out['accuracy'] = [accuracy(torch.eye(c['n']), torch.tensor(c['sims']).view(c['n'], c['classes']).t(), c['targets']) for c in cases['accuracy']]
    if 'recall' in cases:
        out['recall'] = [list(recall(torch.tensor(c['sims']).view(c['n'], c['n']), c['k'])) for c in cases['recall']]
    if 'accumulation' in cases:
        out['accumulation'] = accumulation_gap(**cases['accumulation'])
    print(json.dumps(out))


if __name__ == '__main__':
    main()
