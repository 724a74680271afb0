"""Throughput check of the torch engine, standalone (no node needed): the GPU check runs this.

    python3 -m time_merge_torch.bench [--size vit-b-16|tiny] [--batches 256,512] [--steps 20] [--out FILE]
        [--deadline SECONDS] [--require-cuda] [--pipeline-seconds S]

From random weights (nothing is fetched): training images/s of a plain PyTorch loop (the reference, tensors
already on the device) and of the worker driven through its JSON-lines interface, at each batch size, in
the same run, on realistic images: varied sizes, prepared as `time-merge clip prepare` does (224px
variants), decoded every time (no decoded-image cache), more than one pass of the loader; the loader's
images/s alone; evaluation images/s without the weights' load (first pass, and again on the same
long-lived loader); the weights' round trip; parity with the open_clip fixture; then the per-TIME-step
overhead at 1420 steps and the projected hours of a full ema_paint run including evaluation.
The JSON is rewritten after every stage, so a run cut by --deadline or a timeout keeps what it measured.
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


# Photo sizes as FoMo-in-Flux's sources have them (width, height): phone and camera shots, scans, thumbnails.
PHOTO_SIZES = [(500, 375), (640, 480), (800, 600), (1024, 768), (375, 500), (1600, 1200), (300, 300), (1280, 720)]


def _make_one(job):
    """One smooth random photo-like image (gradient, blobs, noise) at a varied size, JPEG."""
    i, folder = job
    rng = np.random.default_rng(i)
    w, h = PHOTO_SIZES[i % len(PHOTO_SIZES)]
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    a = rng.uniform(0, 255, (3, 3))
    px = (a[:, 0, None, None] * xx + a[:, 1, None, None] * yy + 40 * np.sin(xx * rng.uniform(5, 30))) % 256
    px = np.clip(px.transpose(1, 2, 0) + rng.normal(0, 10, (h, w, 3)), 0, 255).astype(np.uint8)
    path = os.path.join(folder, f'{i}.jpg')
    Image.fromarray(px).save(path, quality=90)
    return f'{i}.jpg'


def make_images(folder, n, prepare=True):
    """n varied-size JPEGs and, as `time-merge clip prepare` writes them, their 224px variants; an index of
    the variants (or the originals) as the worker reads it."""
    from multiprocessing import Pool
    from .prepare import prepare_one, variant_path
    src = os.path.join(folder, 'originals')
    os.makedirs(src, exist_ok=True)
    with Pool(os.cpu_count() or 1) as pool:
        rels = pool.map(_make_one, [(i, src) for i in range(n)], chunksize=16)
        cache = os.path.join(folder, 'prepared')
        if prepare:
            bad = [r for r, (kind, _) in zip(rels, pool.map(prepare_one, [(os.path.join(src, r), variant_path(cache, r), 224) for r in rels], chunksize=16)) if kind == 'bad']
            if bad:
                raise RuntimeError(f'prepare failed on generated images: {bad[:3]}')
    paths = [variant_path(cache, r) if prepare else os.path.join(src, r) for r in rels]
    index = os.path.join(folder, 'index.json')
    with open(index, 'w') as f:
        json.dump({'paths': paths, 'norm': [0] * n, 'norms': [{'mean': [0.48, 0.46, 0.41], 'std': [0.27, 0.26, 0.28]}]}, f)
    return index


def loader_alone(index_path, size, batch, steps, workers):
    """Images/s of the training loader by itself (decode + crop + reassembly, no model): what it can feed."""
    from torch.utils.data import DataLoader
    from .data import Index, PlanChunks, plan_steps
    index = Index(index_path)
    gen = torch.Generator().manual_seed(3)
    n = len(index)
    plan = {'samples': torch.randint(0, n, (steps, batch), generator=gen, dtype=torch.int32),
            'seeds': torch.randint(0, 2 ** 31 - 1, (steps, batch), generator=gen, dtype=torch.int32),
            'captions': torch.zeros(steps, batch, dtype=torch.int32), 'tokens': torch.zeros(1, 4, dtype=torch.int32)}
    data = PlanChunks(index, plan, size, 0, -(-batch // max(1, workers)))
    extra = {'prefetch_factor': 4} if workers > 0 else {}
    loader = DataLoader(data, batch_size=None, shuffle=False, num_workers=workers, **extra)
    started = time.perf_counter()
    first = None
    done = 0
    for px, _ids, _tok in plan_steps(loader, plan, data.per_step):
        done += px.shape[0]
        if first is None:
            first = (time.perf_counter(), done)
    ended = time.perf_counter()
    steady = (done - first[1]) / max(ended - first[0], 1e-9) if done > first[1] else None
    return {'images_per_s': steady, 'images_per_s_with_start': done / (ended - started), 'workers': workers}


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


def worker_runs(c, batches, steps, device_choice, scratch, index, n_images, eval_images, loader_workers, emit, out):
    w = Worker()
    try:
        # cacheMb 0: every image is decoded each time it is drawn, as in a run whose tasks exceed the cache.
        info = w.ask('init', config=_oc_json(c), index=index, device=device_choice, loaderWorkers=loader_workers, cacheMb=0)
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
            log(f'worker train batch {b}: {r["steadyImagesPerSecond"] or 0:.1f} images/s after the first step ({r["imagesPerSecond"]:.1f} with it), command {r["wall_s"]:.1f} s')
            emit()
        req = os.path.join(scratch, 'eval.json')
        ids = list(range(min(eval_images, n_images)))
        with open(req, 'w') as f:
            json.dump({'texts': {'p': random_tokens(100, c, gen).tolist()}, 'parts': [{'kind': 'classification', 'samples': ids, 'texts': 'p', 'targets': [i % 100 for i in ids]}]}, f)
        # The first pass starts the long-lived loader's processes; the second reuses them, as every later
        # evaluation of a run does. The weights' load is left out of the images/s and reported apart.
        for label in ('eval_first', 'eval_again'):
            r = w.ask('eval', weights=weights, request=req, batch=256, k=5)
            own = r['seconds'] - r['loadSeconds']
            out[label] = {'images': r['images'], 'seconds': r['seconds'], 'load_s': r['loadSeconds'], 'images_per_s': r['images'] / max(own, 1e-9)}
            log(f'worker {label}: {out[label]["images_per_s"]:.1f} images/s after {r["loadSeconds"]:.2f} s loading the weights')
            emit()
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


# A full FoMo-in-Flux run (continualfomo_default): 20 tasks x 1420 steps x 512 pairs, an evaluation before
# the first task and after each (21), 379,555 test images in a FoMo-sized evaluation (all adaptation and
# evaluation-only test sets), of which validate_on_subset 0.1 evaluates a tenth.
FULL = {'tasks': 20, 'steps': 1420, 'batch': 512, 'evaluations': 21, 'eval_images': 379_555, 'subset': 0.1}


def projection(res, pipeline_s):
    """Overhead per TIME step and projected hours of a full ema_paint run, from what this run measured."""
    # The largest batch measured stands for 512 (its images/s), so the tiny check projects too.
    measured = sorted(int(k[6:]) for k, v in res.items() if k.startswith('train_') and v.get('images_per_s'))
    if not measured:
        return None
    b = measured[-1]
    train = res[f'train_{b}']['images_per_s']
    ev = res.get('eval_again', {}).get('images_per_s')
    step_s = FULL['batch'] / train
    exchange = res[f'train_{b}'].get('exchange_s', 0.0) + res.get('eval_again', {}).get('load_s', 0.0)
    overhead = (pipeline_s or 0.0) + exchange
    eval_images = FULL['eval_images'] * FULL['subset']
    hours = {
        'training': FULL['tasks'] * FULL['steps'] * step_s / 3600,
        'evaluation': FULL['evaluations'] * eval_images / ev / 3600 if ev else None,
        'overhead': FULL['tasks'] * overhead / 3600,
    }
    return {
        'assumptions': FULL,
        'from_batch': b,
        'train_step_s': step_s,
        'pipeline_step_s': pipeline_s,
        'exchange_step_s': exchange,
        'overhead_fraction': overhead / (FULL['steps'] * step_s),
        'hours': hours,
        'total_hours': sum(h for h in hours.values() if h is not None) if hours['evaluation'] is not None else None,
    }


def main(argv=None):
    started = time.perf_counter()
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', choices=sorted(SIZES), default='vit-b-16')
    ap.add_argument('--batches', default='256,512')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--worker-steps', type=int, default=20)
    ap.add_argument('--images', type=int, default=4096, help='generated varied-size images for the worker runs')
    ap.add_argument('--eval-images', type=int, default=2048)
    ap.add_argument('--loader-workers', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--device', default='auto')
    ap.add_argument('--require-cuda', action='store_true', help='exit 2 unless torch sees a CUDA GPU')
    ap.add_argument('--deadline', type=float, default=0, help='seconds: stages that would start later are skipped')
    ap.add_argument('--pipeline-seconds', type=float, help='store + merge + deploy per TIME step, measured by node')
    ap.add_argument('--fixture', help='open_clip fixture folder (tiny-a) for the attention parity check')
    ap.add_argument('--skip-worker', action='store_true')
    ap.add_argument('--out')
    a = ap.parse_args(argv)
    if a.require_cuda and not torch.cuda.is_available():
        print(f'gpu-check: torch {torch.__version__} at {sys.executable} sees no CUDA GPU (torch.cuda.is_available() is False; '
              f'{"built for CUDA " + torch.version.cuda if torch.version.cuda else "a CPU-only build"}); the GPU check needs one', file=sys.stderr)
        sys.exit(2)
    device = torch.device('cuda' if a.device != 'cpu' and torch.cuda.is_available() else 'cpu')
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    c = SIZES[a.size]
    batches = [int(b) for b in a.batches.split(',')]
    res = {'size': a.size, 'torch': torch.__version__, 'python': sys.executable, 'sdpa': HAS_SDPA, 'device': device.type,
           'device_name': torch.cuda.get_device_name(0) if device.type == 'cuda' else 'cpu',
           'precision': 'bf16 autocast' if device.type == 'cuda' else 'float32', 'cpus': os.cpu_count(),
           'parameters': sum(p.numel() for p in Clip(c).parameters()), 'complete': False, 'skipped': []}

    def emit():
        if a.out:
            tmp = f'{a.out}.tmp'
            with open(tmp, 'w') as f:
                f.write(json.dumps(res, indent=1) + '\n')
            os.replace(tmp, a.out)

    def time_left(stage):
        if a.deadline and time.perf_counter() - started > a.deadline:
            res['skipped'].append(stage)
            log(f'{stage}: skipped, past the {a.deadline:.0f} s deadline')
            emit()
            return False
        return True

    log(f'torch {torch.__version__} on {res["device_name"]}, {a.size} ({res["parameters"]} parameters), batches {batches}')
    emit()
    if a.fixture and time_left('parity'):
        res['parity'] = attention_parity(a.fixture)
        log(f'parity: {res["parity"]}')
        emit()
    for b in batches:
        if not time_left(f'plain_{b}'):
            continue
        try:
            res[f'plain_{b}'] = plain_loop(c, b, a.steps, a.warmup, device)
            log(f'plain loop batch {b}: {res[f"plain_{b}"]["images_per_s"]:.1f} images/s')
        except RuntimeError as err:
            res[f'plain_{b}'] = {'error': str(err).split('\n')[0]}
            log(f'plain loop batch {b}: {err}')
            if device.type == 'cuda':
                torch.cuda.empty_cache()
        emit()
    if not a.skip_worker and time_left('worker'):
        scratch = tempfile.mkdtemp(prefix='time-merge-bench-')
        try:
            t0 = time.perf_counter()
            index = make_images(scratch, a.images)
            res['images'] = {'count': a.images, 'sizes': PHOTO_SIZES, 'generate_and_prepare_s': time.perf_counter() - t0}
            emit()
            big = max(batches)
            if time_left('loader_alone'):
                res['loader_alone'] = loader_alone(index, c.image_size, big, max(4, min(a.worker_steps, 2 * a.images // big)), a.loader_workers)
                log(f'loader alone, batch {big}: {res["loader_alone"]["images_per_s"] or 0:.1f} images/s with {a.loader_workers} processes')
                emit()
            if time_left('worker_runs'):
                worker_runs(c, batches, a.worker_steps, a.device, scratch, index, a.images, a.eval_images, a.loader_workers, emit, res)
        finally:
            subprocess.run(['rm', '-rf', scratch])
        for b in batches:
            p, w = res.get(f'plain_{b}', {}), res.get(f'train_{b}', {})
            if p.get('images_per_s') and w.get('images_per_s'):
                res[f'ratio_{b}'] = w['images_per_s'] / p['images_per_s']
        res['projection'] = projection(res, a.pipeline_seconds)
    res['complete'] = not res['skipped']
    res['seconds'] = time.perf_counter() - started
    emit()
    print(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
