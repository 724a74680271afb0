"""Zero-shot classification and image-text retrieval scores, computed on the device.

Tie rules as the TypeScript metrics: classification takes the first of tied classes; a retrieval rank is the
number of candidates scoring strictly higher than the right one.
"""
import torch
import torch.nn.functional as F

from .train import autocast


def pad_tokens(rows, context_length):
    out = torch.zeros(len(rows), context_length, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r[:context_length], dtype=torch.long)
    return out


@torch.no_grad()
def text_features(model, tokens, batch, device):
    out = []
    for s in range(0, tokens.shape[0], batch):
        with autocast(device):
            out.append(model.encode_text(tokens[s:s + batch].to(device)).float())
    return F.normalize(torch.cat(out), dim=-1)


@torch.no_grad()
def stream_image_features(model, loader, device, normalize, n, dim):
    """Normalised features [n, dim] of a loader's (uint8 [B,S,S,3], ids) batches, in its order, on the device."""
    out = torch.empty(n, dim, device=device)
    at = 0
    for px, ids in loader:
        x = normalize(px.to(device, non_blocking=True), ids)
        with autocast(device):
            f = model.encode_image(x).float()
        out[at:at + f.shape[0]] = F.normalize(f, dim=-1)
        at += f.shape[0]
    if at != n:
        raise RuntimeError(f'evaluation loader gave {at} images, {n} asked')
    return out


def first_argmax(sims):
    """Index of the first highest entry of each row."""
    top = sims.max(1, keepdim=True).values
    cols = torch.arange(sims.shape[1], device=sims.device).expand_as(sims)
    return torch.where(sims == top, cols, sims.shape[1]).min(1).values


def accuracy(img, cls, targets):
    if img.shape[0] == 0:
        return 0.0
    pred = first_argmax(img @ cls.t())
    return float((pred.cpu() == torch.tensor(targets)).double().mean())


def recall(sims, k):
    """(image->text R@k, text->image R@k) for pairs on the diagonal."""
    right = sims.diagonal()
    i2t = (sims > right[:, None]).sum(1) < k
    t2i = (sims > right[None, :]).sum(0) < k
    return float(i2t.double().mean()), float(t2i.double().mean())


def retrieval(img, txt, k):
    if img.shape[0] == 0:
        return {'i2t_r1': 0.0, 'i2t_r5': 0.0, 't2i_r1': 0.0, 't2i_r5': 0.0, 'score': 0.0}
    sims = img @ txt.t()
    (i1, t1), (i5, t5), (ik, tk) = recall(sims, 1), recall(sims, 5), recall(sims, k)
    return {'i2t_r1': i1, 'i2t_r5': i5, 't2i_r1': t1, 't2i_r5': t5, 'score': (ik + tk) / 2}
