"""The long-lived engine process: JSON-line commands on stdin, one JSON-line reply each on stdout.

    python3 -m time_merge_torch.worker

Commands (each carries an "id" that its reply repeats):
  {"cmd": "init", "config": <open_clip model config>, "index": "index.json", "device": "auto|cuda|cpu",
   "loaderWorkers": 4, "cacheMb": 512, "microBatch": 0}
  {"cmd": "train", "init": "in.safetensors", "plan": "plan.safetensors", "out": "out.safetensors",
   "lr": 1e-5, "weightDecay": 0.2, "warmup": 0.1, "maxGradNorm": 1, "logEvery": 100}
  {"cmd": "eval", "weights": "w.safetensors", "request": "eval.json", "batch": 256, "k": 5}
   (reply: parts' scores, images, seconds, loadSeconds: the weights' load, part of seconds)
  {"cmd": "quit"}
Replies: {"id": n, "ok": true, ...} or {"id": n, "ok": false, "error": "..."}; while training, progress
lines {"event": "progress", "id": n, "step": s, "steps": N, "loss": l, "lr": r, "imagesPerSecond": x}.
Weights are safetensors files in open_clip names (float32). Anything else printed goes to stderr.
"""
import json
import os
import sys
import time
import traceback

import torch
from torch.utils.data import DataLoader

from . import st
from .data import EvalViews, IdSampler, Index, Normalizer, PlanChunks, plan_steps
from .evaluate import accuracy, pad_tokens, retrieval, stream_image_features, text_features
from .model import HAS_SDPA, Clip, clip_loss, config_from_open_clip
from .naming import load_into
from .train import Trainer


def pick_device(choice):
    if choice == 'cuda' and not torch.cuda.is_available():
        raise ValueError('device "cuda" was asked for but torch sees no CUDA device')
    if choice not in ('auto', 'cuda', 'cpu'):
        raise ValueError(f'device "{choice}": choose auto, cuda or cpu')
    return torch.device('cuda' if choice != 'cpu' and torch.cuda.is_available() else 'cpu')


class Engine:
    def __init__(self, send):
        self.send = send
        self.model = None

    def init(self, req):
        self.device = pick_device(req.get('device', 'auto'))
        self.config = config_from_open_clip(req['config'])
        self.index = Index(req['index'])
        self.workers = int(req.get('loaderWorkers', 2))
        self.cache_mb = int(req.get('cacheMb', 512))
        self.eval_batch = None
        self.eval_ids = IdSampler()
        self.eval_loader = None
        self.model = Clip(self.config).to(self.device)
        self.trainer = Trainer(self.model, self.device, clip_loss, int(req.get('microBatch', 0)))
        self.normalize = Normalizer(self.index, self.device)
        if self.device.type == 'cuda':
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        name = torch.cuda.get_device_name(self.device) if self.device.type == 'cuda' else 'cpu'
        return {'device': self.device.type, 'name': name, 'torch': torch.__version__, 'sdpa': HAS_SDPA, 'images': len(self.index)}

    def load(self, path):
        sd, _ = st.read(path)
        load_into(self.model, sd, path)

    def loader(self, dataset, batch_size=None, **kw):
        extra = {'prefetch_factor': 4} if self.workers > 0 else {}
        return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=self.workers,
                          pin_memory=self.device.type == 'cuda', **extra, **kw)

    def train(self, req):
        self.load(req['init'])
        plan, _ = st.read(req['plan'])
        steps = plan['samples'].shape[0]
        # Each loader process decodes a share of every step: about batch / processes samples per chunk.
        chunk = -(-int(plan['samples'].shape[1]) // max(1, self.workers))
        data = PlanChunks(self.index, plan, self.config.image_size, self.cache_mb, chunk)
        dev = self.device

        def batches():
            for px, ids, tokens in plan_steps(self.loader(data), plan, data.per_step):
                yield self.normalize(px.to(dev, non_blocking=True), ids), tokens.to(dev, non_blocking=True)

        def progress(step, loss, lr, rate):
            self.send({'event': 'progress', 'id': req['id'], 'step': step, 'steps': steps, 'loss': loss, 'lr': lr, 'imagesPerSecond': rate})

        loss, images, seconds, steady = self.trainer.run(batches(), steps, req['lr'], req['weightDecay'], req['warmup'], req['maxGradNorm'], progress, int(req.get('logEvery', 0)))
        st.write(req['out'], self.model.state_dict())
        return {'steps': steps, 'loss': loss, 'seconds': seconds, 'imagesPerSecond': images / max(seconds, 1e-9), 'steadyImagesPerSecond': steady, 'microBatch': self.trainer.micro or int(plan['samples'].shape[1])}

    def views(self, ids, batch):
        """Batches of evaluation views of `ids` from one long-lived loader: its processes start once per
        worker and serve every part of every evaluation; they decode ahead while the device computes."""
        if self.eval_loader is None or self.eval_batch != batch:
            self.eval_batch = batch
            self.eval_loader = self.loader(EvalViews(self.index, self.config.image_size), batch_size=batch,
                                           sampler=self.eval_ids, persistent_workers=self.workers > 0)
        self.eval_ids.ids = ids
        return self.eval_loader

    def eval(self, req):
        started = time.perf_counter()
        self.load(req['weights'])
        loaded = time.perf_counter()
        self.model.eval()
        r = json.load(open(req['request']))
        batch, k = int(req.get('batch', 256)), int(req.get('k', 5))
        texts = {key: text_features(self.model, pad_tokens(rows, self.config.context_length), batch, self.device) for key, rows in r['texts'].items()}
        # Every image of every part in one stream: features only (D floats each) are kept, never the pixels.
        ids = sorted({i for part in r['parts'] for i in part['samples']})
        row = {i: n for n, i in enumerate(ids)}
        feats = stream_image_features(self.model, self.views(ids, batch), self.device, self.normalize, len(ids), self.config.embed_dim)
        out = []
        for part in r['parts']:
            img = feats[torch.tensor([row[i] for i in part['samples']], dtype=torch.long, device=feats.device)] if part['samples'] else feats[:0]
            if part['kind'] == 'retrieval':
                out.append(retrieval(img, texts[part['texts']], k))
            else:
                out.append({'score': accuracy(img, texts[part['texts']], part['targets'])})
        images = sum(len(part['samples']) for part in r['parts'])
        seconds = time.perf_counter() - started
        return {'parts': out, 'images': images, 'decoded': len(ids), 'seconds': seconds, 'loadSeconds': loaded - started}


def main():
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol

    def send(obj):
        out.write(json.dumps(obj) + '\n')
        out.flush()

    engine = Engine(send)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = {}
        try:
            req = json.loads(line)
            cmd = req.get('cmd')
            if cmd == 'quit':
                send({'id': req.get('id'), 'ok': True})
                break
            if cmd not in ('init', 'train', 'eval'):
                raise ValueError(f'unknown command {cmd!r} (init, train, eval, quit)')
            if cmd != 'init' and engine.model is None:
                raise ValueError(f'"{cmd}" before "init"')
            send({'id': req.get('id'), 'ok': True, **getattr(engine, cmd)(req)})
        except Exception as err:  # reported to the caller, which names the command
            traceback.print_exc(file=sys.stderr)
            send({'id': req.get('id'), 'ok': False, 'error': f'{type(err).__name__}: {err}'})
    sys.stderr.flush()
    os._exit(0)  # skip DataLoader/CUDA teardown, which can hang at interpreter exit


if __name__ == '__main__':
    main()
