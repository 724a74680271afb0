"""Throughput check of the torch engine, standalone (no node needed): the GPU check runs this.

    python3 -m time_merge_torch.bench [--size vit-b-16|tiny] [--batches 256,512] [--steps 20] [--out FILE]

From random weights (nothing is fetched): training images/s of a plain PyTorch loop (the reference) and of
the worker driven through its JSON-lines interface on generated images, at each batch size, in the same
run; evaluation images/s (cold: decoding; warm: cached views); the weights round trip through the scratch
folder; parity of the attention path with the open_clip fixture where a fixture folder is given.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

from . import st
from .model import HAS_SDPA, VIT_B_16, Clip, ClipConfig, Tower, clip_loss
from .train import MAX_LOGIT_SCALE, autocast, make_optimizer

TINY = ClipConfig(32, 32, 8, Tower(64, 2, 2, 256), 24, 49408, Tower(32, 2, 2, 128))
SIZES = {'vit-b-16': VIT_B_16, 'tiny': TINY}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def random_tokens(n, c, gen):
    t = torch.randint(1, 40000, (n, c.context_length), generator=gen)
    lens = torch.randint(5, min(20, c.context_length - 1), (n,), generator=gen)
    for i, n_i in enumerate(lens.tolist()):
        t[i, 0] = 49406
        t[i, n_i] = 49407
        t[i, n_i + 1:] = 0
    return t


def plain_loop(c, batch, steps, warmup, device):
    """The reference: the same model and batch in the simplest PyTorch training loop, on device tensors."""
    torch.manual_seed(0)
    model = Clip(c).to(device).train()
    opt = make_optimizer(model, 1e-5, 0.2, device)
    gen = torch.Generator().manual_seed(1)
    images = torch.randn(batch, 3, c.image_size, c.image_size, generator=gen).to(device)
    tokens = random_tokens(batch, c, gen).to(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    for i in range(warmup + steps):
        if i == warmup:
            sync(device)
            started = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with autocast(device):
            img, txt = model.encode_image(images), model.encode_text(tokens)
        loss = clip_loss(img, txt, model.logit_scale)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
    sync(device)
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() / 2 ** 30 if device.type == 'cuda' else None
    del model, opt
    if device.type == 'cuda':
        torch.cuda.empty_cache()
    return {'images_per_s': batch * steps / seconds, 'step_s': seconds / steps, 'loss': float(loss), 'peak_gib': peak}


def make_images(folder, n, size):
    """n smooth random images (a colour gradient and noise), JPEG, with an index as the worker reads it."""
    rng = np.random.default_rng(0)
    paths = []
    yy, xx = np.mgrid[0:size, 0:size] / size
    for i in range(n):
        a = rng.uniform(0, 255, (3, 3))
        px = (a[:, 0, None, None] * xx + a[:, 1, None, None] * yy + a[:, 2, None, None] * 0.3) % 256
        px = np.clip(px.transpose(1, 2, 0) + rng.normal(0, 8, (size, size, 3)), 0, 255).astype(np.uint8)
        path = os.path.join(folder, f'{i}.jpg')
        Image.fromarray(px).save(path, quality=90)
        paths.append(path)
    index = os.path.join(folder, 'index.json')
    with open(index, 'w') as f:
        json.dump({'paths': paths, 'norm': [0] * n, 'norms': [{'mean': [0.48, 0.46, 0.41], 'std': [0.27, 0.26, 0.28]}]}, f)
    return index


class Worker:
    """The engine's worker as time-merge drives it: a subprocess speaking JSON lines."""

    def __init__(self):
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.p = subprocess.Popen([sys.executable, '-m', 'time_merge_torch.worker'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        self.n = 0

    def ask(self, cmd, **body):
        self.n += 1
        started = time.perf_counter()
        self.p.stdin.write(json.dumps({'cmd': cmd, 'id': self.n, **body}) + '\n')
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f'worker exited during "{cmd}" (code {self.p.wait()})')
            msg = json.loads(line)
            if msg.get('event'):
                continue
            if not msg.get('ok'):
                raise RuntimeError(f'worker "{cmd}" failed: {msg.get("error")}')
            msg['wall_s'] = time.perf_counter() - started
            return msg

    def close(self):
        try:
            self.ask('quit')
        finally:
            self.p.wait(timeout=30)


def worker_runs(c, batches, steps, device_choice, scratch, n_images, eval_images, loader_workers):
    index = make_images(scratch, n_images, max(c.image_size + c.image_size // 7, c.image_size))
    w = Worker()
    out = {}
    try:
        info = w.ask('init', config=_oc_json(c), index=index, device=device_choice, loaderWorkers=loader_workers)
        out['worker'] = {k: info[k] for k in ('device', 'name', 'torch', 'sdpa')}
        weights = os.path.join(scratch, 'init.safetensors')
        model = Clip(c)
        t0 = time.perf_counter()
        st.write(weights, model.state_dict())
        out['write_weights_s'] = time.perf_counter() - t0
        t0 = time.perf_counter()
        st.read(weights)
        out['read_weights_s'] = time.perf_counter() - t0
        out['weights_mb'] = os.path.getsize(weights) / 1e6
        del model
        gen = torch.Generator().manual_seed(2)
        for b in batches:
            plan = os.path.join(scratch, f'plan-{b}.safetensors')
            tokens = random_tokens(64, c, gen).int()
            st.write(plan, {'samples': torch.randint(0, n_images, (steps, b), generator=gen, dtype=torch.int32),
                            'seeds': torch.randint(0, 2 ** 31 - 1, (steps, b), generator=gen, dtype=torch.int32),
                            'captions': torch.randint(0, 64, (steps, b), generator=gen, dtype=torch.int32), 'tokens': tokens})
            r = w.ask('train', init=weights, plan=plan, out=os.path.join(scratch, 'out.safetensors'), lr=1e-5, weightDecay=0.2, warmup=0.1, maxGradNorm=1.0, logEvery=0)
            out[f'train_{b}'] = {'images_per_s': r['steadyImagesPerSecond'], 'images_per_s_with_first_step': r['imagesPerSecond'], 'train_s': r['seconds'], 'command_s': r['wall_s'], 'exchange_s': r['wall_s'] - r['seconds'], 'micro_batch': r['microBatch']}
            log(f'worker train batch {b}: {r["steadyImagesPerSecond"]:.1f} images/s after the first step ({r["imagesPerSecond"]:.1f} with it), command {r["wall_s"]:.1f} s')
        req = os.path.join(scratch, 'eval.json')
        ids = list(range(min(eval_images, n_images)))
        with open(req, 'w') as f:
            json.dump({'texts': {'p': random_tokens(100, c, gen).tolist()}, 'parts': [{'kind': 'classification', 'samples': ids, 'texts': 'p', 'targets': [i % 100 for i in ids]}]}, f)
        for label in ('eval_cold', 'eval_warm'):
            r = w.ask('eval', weights=weights, request=req, batch=256, k=5)
            out[label] = {'images': r['images'], 'seconds': r['seconds'], 'images_per_s': r['images'] / r['seconds']}
            log(f'worker {label}: {out[label]["images_per_s"]:.1f} images/s')
    finally:
        w.close()
    return out


def _oc_json(c):
    from .model import to_open_clip_json
    return to_open_clip_json(c)


def attention_parity(fixture):
    """The fixture's parity with the explicit attention and, where torch has it, the fused one."""
    from . import model as m
    from .parity import main as parity_main
    import io
    import contextlib
    out = {}
    paths = [False, True] if m.HAS_SDPA else [False]
    for sdpa in paths:
        saved = m.HAS_SDPA
        m.HAS_SDPA = sdpa
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            parity_main(fixture)
        m.HAS_SDPA = saved
        r = json.loads(buf.getvalue())
        out['sdpa' if sdpa else 'explicit'] = {k: r[k] for k in ('logits_per_image', 'loss', 'worst_gradient')}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', choices=sorted(SIZES), default='vit-b-16')
    ap.add_argument('--batches', default='256,512')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--worker-steps', type=int, default=20)
    ap.add_argument('--images', type=int, default=1024, help='generated images for the worker runs')
    ap.add_argument('--eval-images', type=int, default=1024)
    ap.add_argument('--loader-workers', type=int, default=min(8, max(0, (os.cpu_count() or 1) - 1)))
    ap.add_argument('--device', default='auto')
    ap.add_argument('--fixture', help='open_clip fixture folder (tiny-a) for the attention parity check')
    ap.add_argument('--skip-worker', action='store_true')
    ap.add_argument('--out')
    a = ap.parse_args(argv)
    device = torch.device('cuda' if a.device != 'cpu' and torch.cuda.is_available() else 'cpu')
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    c = SIZES[a.size]
    batches = [int(b) for b in a.batches.split(',')]
    res = {'size': a.size, 'torch': torch.__version__, 'sdpa': HAS_SDPA, 'device': device.type,
           'device_name': torch.cuda.get_device_name(0) if device.type == 'cuda' else 'cpu',
           'precision': 'bf16 autocast' if device.type == 'cuda' else 'float32', 'cpus': os.cpu_count(),
           'parameters': sum(p.numel() for p in Clip(c).parameters())}
    log(f'torch {torch.__version__} on {res["device_name"]}, {a.size} ({res["parameters"]} parameters), batches {batches}')
    if a.fixture:
        res['parity'] = attention_parity(a.fixture)
        log(f'parity: {res["parity"]}')
    for b in batches:
        try:
            res[f'plain_{b}'] = plain_loop(c, b, a.steps, a.warmup, device)
            log(f'plain loop batch {b}: {res[f"plain_{b}"]["images_per_s"]:.1f} images/s')
        except RuntimeError as err:
            res[f'plain_{b}'] = {'error': str(err).split('\n')[0]}
            log(f'plain loop batch {b}: {err}')
            if device.type == 'cuda':
                torch.cuda.empty_cache()
    if not a.skip_worker:
        scratch = tempfile.mkdtemp(prefix='time-merge-bench-', dir='/dev/shm' if os.path.isdir('/dev/shm') else None)
        try:
            res.update(worker_runs(c, batches, a.worker_steps, a.device, scratch, a.images, a.eval_images, a.loader_workers))
        finally:
            subprocess.run(['rm', '-rf', scratch])
        for b in batches:
            p, w = res.get(f'plain_{b}', {}), res.get(f'train_{b}', {})
            if 'images_per_s' in p and 'images_per_s' in w:
                res[f'ratio_{b}'] = w['images_per_s'] / p['images_per_s']
                # A full FoMo-in-Flux run trains 20 tasks x 1420 steps x 512 pairs.
                res[f'train_hours_full_run_{b}'] = 20 * 1420 * 512 / w['images_per_s'] / 3600
    text = json.dumps(res, indent=1)
    if a.out:
        tmp = f'{a.out}.tmp'
        with open(tmp, 'w') as f:
            f.write(text + '\n')
        os.replace(tmp, a.out)
    print(text)


if __name__ == '__main__':
    main()
