"""Checkpoint names: open_clip's state_dict names (the model's own) and Hugging Face transformers' CLIPModel."""
import json
import os
import re

import torch

from . import st
from .model import Tower, ClipConfig, config_from_hf, config_from_open_clip

_FIXED = [
    ('positional_embedding', 'text_model.embeddings.position_embedding.weight'),
    ('token_embedding.weight', 'text_model.embeddings.token_embedding.weight'),
    ('ln_final.weight', 'text_model.final_layer_norm.weight'),
    ('ln_final.bias', 'text_model.final_layer_norm.bias'),
    ('logit_scale', 'logit_scale'),
    ('visual.class_embedding', 'vision_model.embeddings.class_embedding'),
    ('visual.positional_embedding', 'vision_model.embeddings.position_embedding.weight'),
    ('visual.conv1.weight', 'vision_model.embeddings.patch_embedding.weight'),
    ('visual.ln_pre.weight', 'vision_model.pre_layrnorm.weight'),  # transformers' spelling
    ('visual.ln_pre.bias', 'vision_model.pre_layrnorm.bias'),
    ('visual.ln_post.weight', 'vision_model.post_layernorm.weight'),
    ('visual.ln_post.bias', 'vision_model.post_layernorm.bias'),
]
# [in, out] matrices in open_clip (x @ P), Linear [out, in] weights in transformers.
_TRANSPOSED = [('visual.proj', 'visual_projection.weight'), ('text_projection', 'text_projection.weight')]
_BLOCK = [('ln_1', 'layer_norm1'), ('ln_2', 'layer_norm2'), ('attn.out_proj', 'self_attn.out_proj'), ('mlp.c_fc', 'mlp.fc1'), ('mlp.c_proj', 'mlp.fc2')]
_TOWERS = [('visual.transformer', 'vision_model.encoder'), ('transformer', 'text_model.encoder')]


def is_hf(names):
    return any(n.startswith(('vision_model.', 'text_model.')) for n in names)


def _ignorable(name):
    return name.endswith('position_ids') or name == 'attn_mask' or name.endswith('.attn_mask')


def hf_to_open_clip(sd):
    """Renames a transformers state_dict: q/k/v stacked into in_proj, projections transposed."""
    out = {}
    for oc, hf in _FIXED:
        if hf in sd:
            out[oc] = sd[hf]
    for oc, hf in _TRANSPOSED:
        if hf in sd:
            out[oc] = sd[hf].t().contiguous()
    for oc_tower, hf_tower in _TOWERS:
        layers = {int(m.group(1)) for n in sd if (m := re.match(re.escape(hf_tower) + r'\.layers\.(\d+)\.', n))}
        for i in sorted(layers):
            ob, hb = f'{oc_tower}.resblocks.{i}', f'{hf_tower}.layers.{i}'
            for o, h in _BLOCK:
                for s in ('weight', 'bias'):
                    if f'{hb}.{h}.{s}' in sd:
                        out[f'{ob}.{o}.{s}'] = sd[f'{hb}.{h}.{s}']
            for s, name in (('weight', 'in_proj_weight'), ('bias', 'in_proj_bias')):
                parts = [sd.get(f'{hb}.self_attn.{x}_proj.{s}') for x in 'qkv']
                if all(p is not None for p in parts):
                    out[f'{ob}.attn.{name}'] = torch.cat(parts, 0)
    return out


def infer_config(sd):
    """Architecture from shapes alone (open_clip names); head width 64 is assumed, as open_clip's default."""
    def layers(prefix):
        return 1 + max(int(m.group(1)) for n in sd if (m := re.match(re.escape(prefix) + r'\.resblocks\.(\d+)\.', n)))
    conv = sd['visual.conv1.weight'].shape
    grid = round((sd['visual.positional_embedding'].shape[0] - 1) ** 0.5)
    vw, tw = conv[0], sd['token_embedding.weight'].shape[1]
    return ClipConfig(
        embed_dim=sd['visual.proj'].shape[1], image_size=grid * conv[2], patch_size=conv[2],
        vision=Tower(vw, layers('visual.transformer'), max(1, vw // 64), sd['visual.transformer.resblocks.0.mlp.c_fc.weight'].shape[0]),
        context_length=sd['positional_embedding'].shape[0], vocab_size=sd['token_embedding.weight'].shape[0],
        text=Tower(tw, layers('transformer'), max(1, tw // 64), sd['transformer.resblocks.0.mlp.c_fc.weight'].shape[0]),
    )


def load_checkpoint(path, config=None):
    """(state_dict in open_clip names, config): the config from the argument, the file's metadata,
    open_clip_config.json or config.json beside it, else the shapes."""
    raw, meta = st.read(path)
    raw = {k: v for k, v in raw.items() if not _ignorable(k)}
    hf = is_hf(raw)
    if not hf and not any(k.startswith('visual.') for k in raw):
        raise ValueError(f'{path}: not a CLIP checkpoint (no "visual.*" or "vision_model.*" tensors among {len(raw)})')
    sd = hf_to_open_clip(raw) if hf else raw
    if config is None:
        folder = os.path.dirname(path)
        if 'config' in meta:
            config = config_from_open_clip(json.loads(meta['config']))
        elif os.path.exists(os.path.join(folder, 'open_clip_config.json')):
            config = config_from_open_clip(json.load(open(os.path.join(folder, 'open_clip_config.json'))))
        elif os.path.exists(os.path.join(folder, 'config.json')):
            config = config_from_hf(json.load(open(os.path.join(folder, 'config.json'))))
        else:
            config = infer_config(sd)
    return sd, config


def load_into(model, sd, label):
    """Copies a state_dict into the model; one error lists every missing, unexpected and misshapen tensor."""
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    misshapen = [f'{k} is {list(sd[k].shape)}, expected {list(v.shape)}' for k, v in own.items() if k in sd and sd[k].shape != v.shape]
    if missing or unexpected or misshapen:
        parts = [f'{what} {len(xs)}: {", ".join(xs[:12])}' for what, xs in (('missing', missing), ('unexpected', unexpected), ('wrong shape', misshapen)) if xs]
        raise ValueError(f'{label}: does not match the CLIP config ({len(own)} parameters): {"; ".join(parts)}')
    model.load_state_dict(sd)
