"""Fine-tuning as FoMo-in-Flux and open_clip do it: contrastive loss, AdamW, cosine schedule with warm-up."""
import math
import time

import torch

MAX_LOGIT_SCALE = math.log(100)  # open_clip clamps the learnable temperature after every step


def excluded_from_decay(name, p):
    """open_clip's rule: gains, biases, norms, the logit scale and (as its towers' no_weight_decay sets
    say) both positional embeddings skip weight decay. src/clip/optim.ts has the same rule."""
    return (p.ndim < 2 or 'bn' in name or 'ln' in name or 'bias' in name or 'logit_scale' in name
            or 'positional_embedding' in name)


def cosine_lr(step, total, base, warmup_fraction):
    """Learning rate at 0-based `step` of `total`: linear warm-up, then cosine to zero (restarted per task)."""
    warmup = math.floor(total * warmup_fraction)
    if step < warmup:
        return base * (step + 1) / warmup
    e, es = step - warmup, total - warmup
    return base if es <= 0 else 0.5 * (1 + math.cos(math.pi * e / es)) * base


def make_optimizer(model, lr, weight_decay, device):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if excluded_from_decay(name, p) else decay).append(p)
    groups = [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]
    extra = {}
    if device.type == 'cuda' and 'fused' in torch.optim.AdamW.__init__.__code__.co_varnames:
        extra['fused'] = True
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98), eps=1e-6, **extra)


def autocast(device):
    """bf16 autocast on CUDA; plain float32 elsewhere (parity is checked in float32 on CPU)."""
    if device.type == 'cuda':
        return torch.autocast('cuda', dtype=torch.bfloat16)
    return torch.autocast('cpu', enabled=False)


def contrastive_backward(model, images, tokens, micro, device, loss_fn):
    """Backward pass of the full-batch contrastive loss, in micro-batches of `micro` when smaller than the batch.

    With accumulation the features of the whole batch are first computed without gradients; each micro-batch
    is then recomputed with gradients and put in its place (open_clip's accum_freq scheme), so the gradient is
    the full batch's. The logit scale takes its gradient from one micro-batch only, so it is not counted twice.
    """
    b = images.shape[0]
    if micro >= b:
        with autocast(device):
            img, txt = model.encode_image(images), model.encode_text(tokens)
        loss = loss_fn(img, txt, model.logit_scale)
        loss.backward()
        return loss.detach()
    cuts = list(range(0, b, micro)) + [b]
    with torch.no_grad(), autocast(device):
        img_all = torch.cat([model.encode_image(images[s:e]) for s, e in zip(cuts, cuts[1:])]).float()
        txt_all = torch.cat([model.encode_text(tokens[s:e]) for s, e in zip(cuts, cuts[1:])]).float()
    loss = None
    for j, (s, e) in enumerate(zip(cuts, cuts[1:])):
        with autocast(device):
            img, txt = model.encode_image(images[s:e]), model.encode_text(tokens[s:e])
        img = torch.cat([img_all[:s], img.float(), img_all[e:]])
        txt = torch.cat([txt_all[:s], txt.float(), txt_all[e:]])
        scale = model.logit_scale if j == 0 else model.logit_scale.detach()
        loss = loss_fn(img, txt, scale)
        loss.backward()
    return loss.detach()


def is_oom(err):
    return isinstance(err, RuntimeError) and 'out of memory' in str(err)


def check_finite(bad):
    """Raises naming the first step whose loss was not finite, and that loss (one host sync)."""
    step, loss = bad[0].item(), bad[1].item()
    if step >= 0:
        raise ValueError(f'training diverged: loss {loss} at step {int(step) + 1}')


class Trainer:
    """Runs one task's optimiser steps over batches from a loader; halves the micro-batch on CUDA out-of-memory."""

    def __init__(self, model, device, loss_fn, micro_batch=0):
        self.model = model
        self.device = device
        self.loss_fn = loss_fn
        self.micro = micro_batch  # 0: the whole batch at once

    def run(self, batches, steps, lr, weight_decay, warmup, max_grad_norm, on_progress=None, every=0):
        model, device = self.model, self.device
        model.train()
        opt = make_optimizer(model, lr, weight_decay, device)
        loss = torch.tensor(float('nan'))
        # The first non-finite step, kept on the device: reading the loss every step would make the host
        # wait for the device each step. It is read at progress lines and at the end.
        bad = torch.tensor([-1.0, 0.0], device=device)  # (step, loss) of the first non-finite loss
        counter = torch.zeros((), device=device)  # the step number on the device, so no copy per step
        started = time.perf_counter()
        images_done = 0
        after_first = (started, 0)
        for step, (images, tokens) in enumerate(batches):
            if step >= steps:
                break
            for group in opt.param_groups:
                group['lr'] = cosine_lr(step, steps, lr, warmup)
            while True:
                micro = self.micro or images.shape[0]
                try:
                    opt.zero_grad(set_to_none=True)
                    loss = contrastive_backward(model, images, tokens, micro, device, self.loss_fn)
                    break
                except RuntimeError as err:
                    if not (is_oom(err) and device.type == 'cuda' and micro > 1):
                        raise
                    opt.zero_grad(set_to_none=True)
                    torch.cuda.empty_cache()
                    self.micro = max(1, micro // 2)
            first = (bad[0] < 0) & ~torch.isfinite(loss)
            bad = torch.where(first, torch.stack([counter, loss.float()]), bad)
            counter += 1
            if max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            opt.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
            images_done += images.shape[0]
            if step == 0:
                # Steady-state rate from here: the first step also pays for loader start-up and kernel warm-up.
                if device.type == 'cuda':
                    torch.cuda.synchronize()
                after_first = (time.perf_counter(), images_done)
            if on_progress and every > 0 and ((step + 1) % every == 0 or step + 1 == steps):
                check_finite(bad)
                elapsed = time.perf_counter() - started
                on_progress(step + 1, float(loss), cosine_lr(step, steps, lr, warmup), images_done / max(elapsed, 1e-9))
        check_finite(bad)
        if device.type == 'cuda':
            torch.cuda.synchronize()
        ended = time.perf_counter()
        steady = (images_done - after_first[1]) / max(ended - after_first[0], 1e-9) if images_done > after_first[1] else None
        return float(loss), images_done, ended - started, steady
