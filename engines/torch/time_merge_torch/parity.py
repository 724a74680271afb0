"""Largest differences between this model and the open_clip fixture (features, logits, loss, gradients).

    python3 -m time_merge_torch.parity FIXTURE_DIR   -> one JSON object on stdout
"""
import json
import sys

import torch
import torch.nn.functional as F

from . import st
from .model import Clip, clip_loss
from .naming import load_checkpoint, load_into


def max_err(a, b):
    """Largest |a - b| / max(1, |b|), as the TypeScript parity test measures."""
    a, b = a.double().flatten(), b.double().flatten()
    if a.shape != b.shape:
        return float('inf')
    return float(((a - b).abs() / b.abs().clamp(min=1)).max())


def main(folder, checkpoint=None):
    torch.manual_seed(0)
    sd, config = load_checkpoint(checkpoint or f'{folder}/model.safetensors')
    model = Clip(config)
    load_into(model, sd, folder)
    inputs, _ = st.read(f'{folder}/inputs.safetensors')
    expected, _ = st.read(f'{folder}/expected.safetensors')
    grads, _ = st.read(f'{folder}/grads.safetensors')
    fixture = json.load(open(f'{folder}/fixture.json'))
    img = model.encode_image(inputs['images'])
    txt = model.encode_text(inputs['tokens'].long())
    logits = model.logit_scale.exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).t()
    loss = clip_loss(img, txt, model.logit_scale)
    loss.backward()
    named = dict(model.named_parameters())
    out = {
        'sdpa': hasattr(F, 'scaled_dot_product_attention'),
        'image_features': max_err(img, expected['image_features']),
        'text_features': max_err(txt, expected['text_features']),
        'image_features_normalized': max_err(F.normalize(img, dim=-1), expected['image_features_normalized']),
        'text_features_normalized': max_err(F.normalize(txt, dim=-1), expected['text_features_normalized']),
        'logits_per_image': max_err(logits, expected['logits_per_image']),
        'loss': abs(float(loss) - fixture['loss']),
        'gradients': len(grads),
        'gradient_names_match': sorted(grads) == sorted(named),
    }
    worst = max(((max_err(named[n].grad, g), n) for n, g in grads.items() if n in named), default=(float('inf'), '-'))
    out['worst_gradient'], out['worst_gradient_name'] = worst
    print(json.dumps(out))


if __name__ == '__main__':
    main(*sys.argv[1:])
