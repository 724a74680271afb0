"""Cross-checks against the TypeScript implementation: cases come as JSON on stdin, answers go to stdout.

    {"lr": [[step, total, base, warmup], ...],
     "accuracy": [{"sims": [...], "n": n, "classes": c, "targets": [...]}, ...],
     "recall": [{"sims": [...], "n": n, "k": k}, ...],
     "accumulation": {"batch": 8, "micro": 3}, "sdpa": true}
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
    loss_full = float(contrastive_backward(model, images, tokens, batch, cpu, clip_loss))
    full = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    loss_micro = float(contrastive_backward(model, images, tokens, micro, cpu, clip_loss))
    gap = max(float((p.grad - full[n]).abs().max() / full[n].abs().max().clamp(min=1e-12)) for n, p in model.named_parameters())
    return {'loss_gap': abs(loss_full - loss_micro), 'grad_gap': gap, 'parameters': len(full)}


def sdpa_call_gap():
    """The fused-attention call site against the explicit path, with torch's documented SDPA semantics
    ([batch, heads, tokens, head dim], causal = upper triangle masked) standing in where torch lacks it."""
    import math
    import torch.nn.functional as F
    from . import model as m

    def reference(q, k, v, is_causal=False):
        att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        if is_causal:
            n = q.shape[-2]
            att = att.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float('-inf'))
        return att.softmax(-1) @ v

    torch.manual_seed(1)
    c = ClipConfig(16, 16, 8, Tower(32, 2, 2, 64), 12, 100, Tower(16, 2, 2, 32))
    model = Clip(c).eval()
    images, tokens = torch.randn(3, 3, 16, 16), torch.randint(1, 99, (3, 12))
    saved_flag, saved_fn = m.HAS_SDPA, getattr(F, 'scaled_dot_product_attention', None)
    try:
        m.HAS_SDPA = False
        plain = torch.cat([model.encode_image(images), model.encode_text(tokens)])
        m.HAS_SDPA = True
        if saved_fn is None:
            F.scaled_dot_product_attention = reference
        fused = torch.cat([model.encode_image(images), model.encode_text(tokens)])
    finally:
        m.HAS_SDPA = saved_flag
        if saved_fn is None:
            del F.scaled_dot_product_attention
    return float((plain - fused).abs().max())


def main():
    cases = json.load(sys.stdin)
    out = {}
    if 'lr' in cases:
        out['lr'] = [cosine_lr(*c) for c in cases['lr']]
    if 'accuracy' in cases:
        out['accuracy'] = [accuracy(torch.eye(c['n']), torch.tensor(c['sims']).view(c['n'], c['classes']).t(), c['targets']) for c in cases['accuracy']]
    if 'recall' in cases:
        out['recall'] = [list(recall(torch.tensor(c['sims']).view(c['n'], c['n']), c['k'])) for c in cases['recall']]
    if cases.get('sdpa'):
        out['sdpa_gap'] = sdpa_call_gap()
    if 'accumulation' in cases:
        out['accumulation'] = accumulation_gap(**cases['accumulation'])
    print(json.dumps(out))


if __name__ == '__main__':
    main()
