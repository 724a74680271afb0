import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { probeTorch, TORCH_ENGINE_DIR, TORCH_INSTALL_HINT } from '../src/clip/engine.js';
import { accuracy, recallAtK } from '../src/clip/metrics.js';
import { cosineLr } from '../src/clip/optim.js';
import { chooseEngine, parseClipStudy, runClipStudy } from '../src/clip/study.js';
import { TorchWorker } from '../src/clip/torch-worker.js';
import { loadClipCheckpoint, saveClipCheckpoint } from '../src/clip/weights.js';
import { OPEN_CLIP_FIXTURES } from './shared-fixtures.js';
import { TORCH } from './torch-available.js';

const FIXTURE = join(OPEN_CLIP_FIXTURES, 'tiny-a');
const env = { ...process.env, PYTHONPATH: TORCH_ENGINE_DIR };

/** Runs `python -m time_merge_torch.<module> args` (stdin optional) and parses its one JSON line. */
function pyModule(module: string, args: string[], stdin?: string): Promise<Record<string, unknown>> {
  if (!TORCH.ok) throw new Error('no torch');
  const python = TORCH.python;
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', `time_merge_torch.${module}`, ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${module} exited ${code}: ${err}`)),
    );
    child.stdin.end(stdin ?? '');
  });
}

describe('torch engine without Python or torch', () => {
  it('names what to install', async () => {
    const probe = await probeTorch('/nonexistent/python3');
    expect(probe).toMatchObject({ ok: false, reason: '/nonexistent/python3 cannot be started (ENOENT)' });
    expect(TORCH_INSTALL_HINT).toContain('apt-get install python3-torch python3-numpy python3-pil');
    const old = process.env.TIME_MERGE_PYTHON;
    process.env.TIME_MERGE_PYTHON = '/nonexistent/python3';
    try {
      const root = mkdtempSync(join(tmpdir(), 'torch-missing-'));
      const s = parseClipStudy(
        `model: ${join(FIXTURE, 'model.safetensors')}\ndata: { root: ${root} }\nstream: s\nengine: torch\n`,
        root,
      );
      await expect(runClipStudy(s, () => {})).rejects.toThrow(
        /engine "torch": \/nonexistent\/python3 cannot be started \(ENOENT\); install Python 3 with torch/,
      );
    } finally {
      if (old === undefined) delete process.env.TIME_MERGE_PYTHON;
      else process.env.TIME_MERGE_PYTHON = old;
    }
  });
});

describe('engine choice', () => {
  const study = (extra: string) =>
    parseClipStudy(`model: m.safetensors\ndata: { root: . }\nstream: s\n${extra}`, tmpdir());

  it('auto picks torch when found and no tfjs backend is named; else tfjs, saying why', async () => {
    const logs: string[] = [];
    expect(await chooseEngine(study('engine: tfjs\n'), (m) => logs.push(m))).toEqual({ engine: 'tfjs' });
    expect(await chooseEngine(study('backend: wasm\n'), (m) => logs.push(m))).toEqual({ engine: 'tfjs' });
    expect(logs).toEqual([]);
    if (TORCH.ok)
      expect(await chooseEngine(study(''), () => {})).toMatchObject({
        engine: 'torch',
        python: TORCH.python,
        torch: TORCH.torch,
        cuda: TORCH.cuda,
        device: TORCH.cuda ? 'cuda' : 'cpu',
      });
    const old = process.env.TIME_MERGE_PYTHON;
    process.env.TIME_MERGE_PYTHON = '/nonexistent/python3';
    try {
      expect(await chooseEngine(study(''), (m) => logs.push(m))).toEqual({ engine: 'tfjs' });
      expect(logs).toEqual([
        `engine: tfjs (auto: /nonexistent/python3 cannot be started (ENOENT); for the torch engine, ${TORCH_INSTALL_HINT})`,
      ]);
    } finally {
      if (old === undefined) delete process.env.TIME_MERGE_PYTHON;
      else process.env.TIME_MERGE_PYTHON = old;
    }
  });
});

describe.skipIf(!TORCH.ok)('torch engine (engines/torch) on CPU', () => {
  it('matches the open_clip fixture: features, logits, loss and every gradient to 1e-4', async () => {
    const r = await pyModule('parity', [FIXTURE]);
    for (const key of [
      'image_features',
      'text_features',
      'image_features_normalized',
      'text_features_normalized',
      'logits_per_image',
      'loss',
      'worst_gradient',
    ]) {
      expect(r[key], key).toBeLessThan(1e-4);
    }
    expect(r.gradient_names_match).toBe(true);
    expect(r.gradients).toBe(62);
  }, 60_000);

  it('loads a transformers-named checkpoint (written by the TypeScript side) to the same numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'torch-hf-'));
    const ckpt = await loadClipCheckpoint(join(FIXTURE, 'model.safetensors'));
    const hf = join(dir, 'model.safetensors');
    await saveClipCheckpoint(hf, ckpt.params, ckpt.config, 'hf');
    const r = await pyModule('parity', [FIXTURE, hf]);
    for (const key of ['image_features', 'text_features', 'logits_per_image', 'loss', 'worst_gradient'])
      expect(r[key], key).toBeLessThan(1e-4);
    expect(r.gradient_names_match).toBe(true);
  }, 60_000);

  it('agrees with the TypeScript schedule and metrics on random cases with ties; accumulation keeps the full-batch gradient', async () => {
    const rng = seedrandom('torch-selftest');
    const lr = Array.from({ length: 40 }, () => {
      const total = 1 + Math.floor(rng() * 50);
      return [Math.floor(rng() * total), total, rng() * 1e-3, [0, 0.1, 0.5][Math.floor(rng() * 3)]];
    });
    // Scores rounded to one decimal, so ties are common.
    const sims = (n: number) => Array.from({ length: n }, () => Math.round(rng() * 10) / 10);
    const acc = Array.from({ length: 20 }, () => {
      const n = 1 + Math.floor(rng() * 12),
        classes = 1 + Math.floor(rng() * 6);
      return {
        n,
        classes,
        sims: sims(n * classes),
        targets: Array.from({ length: n }, () => Math.floor(rng() * classes)),
      };
    });
    const rec = Array.from({ length: 20 }, () => {
      const n = 1 + Math.floor(rng() * 12);
      return { n, k: 1 + Math.floor(rng() * 5), sims: sims(n * n) };
    });
    const r = (await pyModule(
      'selftest',
      [],
      JSON.stringify({ lr, accuracy: acc, recall: rec, accumulation: { batch: 8, micro: 3 }, sdpa: true }),
    )) as {
      sdpa_gap: number;
      lr: number[];
      accuracy: number[];
      recall: [number, number][];
      accumulation: { loss_gap: number; grad_gap: number; parameters: number };
    };
    lr.forEach((c, i) => expect(r.lr[i]).toBeCloseTo(cosineLr(c[0], c[1], c[2], c[3]), 15));
    acc.forEach((c, i) =>
      expect(r.accuracy[i], JSON.stringify(c)).toBeCloseTo(
        accuracy(Float32Array.from(c.sims), c.n, c.classes, c.targets),
        12,
      ),
    );
    rec.forEach((c, i) => {
      const ts = recallAtK(Float32Array.from(c.sims), c.n, c.k);
      expect(r.recall[i], JSON.stringify(c)).toEqual(
        [ts.imageToText, ts.textToImage].map((v) => expect.closeTo(v, 12)),
      );
    });
    expect(r.accumulation.parameters).toBe(62);
    expect(r.accumulation.loss_gap).toBeLessThan(1e-6);
    expect(r.accumulation.grad_gap).toBeLessThan(1e-5);
    // The fused-attention call (torch >= 2.0) computes what the explicit path does.
    expect(r.sdpa_gap).toBeLessThan(1e-5);
  }, 60_000);

  it('a failing command names itself and quotes the worker; a worker that exits is an error naming the command', async () => {
    const logs: string[] = [];
    const w = TorchWorker.start(TORCH.ok ? TORCH.python : '', (m) => logs.push(m));
    await expect(w.request('train', {})).rejects.toThrow(
      /"train" failed: ValueError: "train" before "init"; its last lines:\n(.|\n)*Traceback/,
    );
    await expect(w.request('init', { config: {}, index: '/nonexistent/index.json' })).rejects.toThrow(
      /"init" failed: FileNotFoundError: .*\/nonexistent\/index\.json/,
    );
    expect(logs.some((l) => l.startsWith('  torch: Traceback'))).toBe(true);
    await w.close();
    await expect(w.request('eval', {})).rejects.toThrow(/"eval" failed: the worker exited with code 0/);
    // An interpreter that exits at once (sh cannot open the module): the pending command fails with its last lines.
    const bad = TorchWorker.start('/bin/sh');
    await expect(bad.request('init', {})).rejects.toThrow(
      /torch worker \(\/bin\/sh\): "init" failed: the worker exited with code 2; its last lines:\n .*time_merge_torch\.worker/,
    );
  }, 60_000);

  it('a worker that stops reading its commands is an error naming the command, not an unhandled EPIPE', async () => {
    // A stand-in interpreter that closes stdin at once and exits a moment later: the command's write fails.
    const dir = mkdtempSync(join(tmpdir(), 'time-merge-worker-'));
    const script = join(dir, 'closes-stdin.sh');
    writeFileSync(script, '#!/bin/sh\nexec 0<&-\necho closed stdin >&2\nsleep 0.5\nexit 3\n', { mode: 0o755 });
    const w = TorchWorker.start(script);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(w.request('init', {})).rejects.toThrow(
      /"init" failed: the worker exited with code 3; its last lines:\n {2}closed stdin/,
    );
  });
});
