"""CLIP (ViT image tower + causal text transformer) in plain PyTorch, with open_clip's state_dict names.

The module tree mirrors open_clip's VisionTransformer/TextTransformer, so `model.state_dict()` keys are
the names of a released open_clip checkpoint (naming.py maps Hugging Face names onto them).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# torch 2.0 added the fused attention kernel; torch 1.13 (Debian's) computes attention explicitly.
HAS_SDPA = hasattr(F, 'scaled_dot_product_attention')


@dataclass(frozen=True)
class Tower:
    width: int
    layers: int
    heads: int
    mlp_width: int


@dataclass(frozen=True)
class ClipConfig:
    embed_dim: int
    image_size: int
    patch_size: int
    vision: Tower
    context_length: int
    vocab_size: int
    text: Tower
    quick_gelu: bool = False

    @property
    def grid(self):
        return self.image_size // self.patch_size


def config_from_open_clip(j):
    """open_clip's model config JSON (model_cfg or the bare config), with open_clip's defaults."""
    j = j.get('model_cfg', j)
    v = j.get('vision_cfg', {})
    t = j.get('text_cfg', {})
    vw = v.get('width', 768)
    tw = t.get('width', 512)
    c = ClipConfig(
        embed_dim=j.get('embed_dim', 512),
        image_size=v.get('image_size', 224),
        patch_size=v.get('patch_size', 16),
        vision=Tower(vw, v.get('layers', 12), vw // v.get('head_width', 64), round(vw * v.get('mlp_ratio', 4))),
        context_length=t.get('context_length', 77),
        vocab_size=t.get('vocab_size', 49408),
        text=Tower(tw, t.get('layers', 12), t.get('heads', 8), round(tw * t.get('mlp_ratio', 4))),
        quick_gelu=bool(j.get('quick_gelu', False)),
    )
    for name, tower in (('vision', c.vision), ('text', c.text)):
        if tower.width % tower.heads:
            raise ValueError(f'CLIP config: {name} width {tower.width} is not divisible by {tower.heads} heads')
    if c.image_size % c.patch_size:
        raise ValueError(f'CLIP config: image_size {c.image_size} is not a multiple of patch_size {c.patch_size}')
    return c


def config_from_hf(j):
    """A transformers CLIPConfig (config.json)."""
    v = j.get('vision_config', {})
    t = j.get('text_config', {})
    act = v.get('hidden_act', t.get('hidden_act', 'quick_gelu'))
    if act not in ('gelu', 'quick_gelu'):
        raise ValueError(f'CLIP config: hidden_act "{act}" is not supported (gelu or quick_gelu)')
    return ClipConfig(
        embed_dim=j.get('projection_dim', 512),
        image_size=v.get('image_size', 224),
        patch_size=v.get('patch_size', 32),
        vision=Tower(v.get('hidden_size', 768), v.get('num_hidden_layers', 12), v.get('num_attention_heads', 12), v.get('intermediate_size', 3072)),
        context_length=t.get('max_position_embeddings', 77),
        vocab_size=t.get('vocab_size', 49408),
        text=Tower(t.get('hidden_size', 512), t.get('num_hidden_layers', 12), t.get('num_attention_heads', 8), t.get('intermediate_size', 2048)),
        quick_gelu=act == 'quick_gelu',
    )


def to_open_clip_json(c):
    return {
        'embed_dim': c.embed_dim, 'quick_gelu': c.quick_gelu,
        'vision_cfg': {'image_size': c.image_size, 'patch_size': c.patch_size, 'width': c.vision.width, 'layers': c.vision.layers,
                       'head_width': c.vision.width // c.vision.heads, 'mlp_ratio': c.vision.mlp_width / c.vision.width},
        'text_cfg': {'context_length': c.context_length, 'vocab_size': c.vocab_size, 'width': c.text.width, 'heads': c.text.heads,
                     'layers': c.text.layers, 'mlp_ratio': c.text.mlp_width / c.text.width},
    }


VIT_B_16 = ClipConfig(512, 224, 16, Tower(768, 12, 12, 3072), 77, 49408, Tower(512, 12, 8, 2048))


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    """nn.MultiheadAttention's parameter layout (fused q/k/v in_proj, out_proj), batch-first."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, causal):
        b, n, w = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias).view(b, n, 3, self.heads, w // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if HAS_SDPA:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
            if causal:
                att = att.masked_fill(torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1), float('-inf'))
            o = att.softmax(-1) @ v
        return self.out_proj(o.transpose(1, 2).reshape(b, n, w))


class Mlp(nn.Module):
    def __init__(self, width, hidden, quick_gelu):
        super().__init__()
        self.c_fc = nn.Linear(width, hidden)
        self.gelu = QuickGELU() if quick_gelu else nn.GELU()
        self.c_proj = nn.Linear(hidden, width)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, t, quick_gelu):
        super().__init__()
        self.ln_1 = nn.LayerNorm(t.width)
        self.attn = Attention(t.width, t.heads)
        self.ln_2 = nn.LayerNorm(t.width)
        self.mlp = Mlp(t.width, t.mlp_width, quick_gelu)

    def forward(self, x, causal):
        x = x + self.attn(self.ln_1(x), causal)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, t, quick_gelu):
        super().__init__()
        self.resblocks = nn.ModuleList([Block(t, quick_gelu) for _ in range(t.layers)])

    def forward(self, x, causal=False):
        for block in self.resblocks:
            x = block(x, causal)
        return x


class Visual(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c.vision.width
        self.conv1 = nn.Conv2d(3, w, c.patch_size, c.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(w))
        self.positional_embedding = nn.Parameter(torch.empty(c.grid ** 2 + 1, w))
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Transformer(c.vision, c.quick_gelu)
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(torch.empty(w, c.embed_dim))

    def forward(self, images):
        x = self.conv1(images).flatten(2).transpose(1, 2)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], 1) + self.positional_embedding.to(x.dtype)
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0]) @ self.proj


class Clip(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.visual = Visual(c)
        self.transformer = Transformer(c.text, c.quick_gelu)
        self.token_embedding = nn.Embedding(c.vocab_size, c.text.width)
        self.positional_embedding = nn.Parameter(torch.empty(c.context_length, c.text.width))
        self.ln_final = nn.LayerNorm(c.text.width)
        self.text_projection = nn.Parameter(torch.empty(c.text.width, c.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.init_weights()

    def init_weights(self):
        """open_clip's initialisation scales (for benchmarks from random weights; runs load checkpoints)."""
        c = self.config
        g = torch.Generator().manual_seed(0)

        def normal(p, std):
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=g) * std)

        for tower, t in ((self.visual.transformer, c.vision), (self.transformer, c.text)):
            proj_std = t.width ** -0.5 * (2 * t.layers) ** -0.5
            for b in tower.resblocks:
                normal(b.attn.in_proj_weight, t.width ** -0.5)
                normal(b.attn.out_proj.weight, proj_std)
                normal(b.mlp.c_fc.weight, (2 * t.width) ** -0.5)
                normal(b.mlp.c_proj.weight, proj_std)
        vw = c.vision.width
        normal(self.visual.conv1.weight, (3 * c.patch_size ** 2) ** -0.5)
        normal(self.visual.class_embedding, vw ** -0.5)
        normal(self.visual.positional_embedding, vw ** -0.5)
        normal(self.visual.proj, vw ** -0.5)
        normal(self.token_embedding.weight, 0.02)
        normal(self.positional_embedding, 0.01)
        normal(self.text_projection, c.text.width ** -0.5)

    def encode_image(self, images):
        return self.visual(images)

    def encode_text(self, tokens):
        x = self.token_embedding(tokens) + self.positional_embedding.to(self.token_embedding.weight.dtype)
        x = self.ln_final(self.transformer(x, causal=True))
        # The feature at the end token: the highest id in each row, as open_clip pools.
        return x[torch.arange(x.shape[0], device=x.device), tokens.argmax(-1)] @ self.text_projection


def clip_loss(image_features, text_features, logit_scale):
    """Symmetric contrastive loss on normalised features, in float32."""
    img = F.normalize(image_features.float(), dim=-1)
    txt = F.normalize(text_features.float(), dim=-1)
    logits = logit_scale.exp() * img @ txt.t()
    labels = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
