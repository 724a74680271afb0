import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail } from '../params/errors.js';
import { trackChild } from '../params/live-children.js';

/** Who trains and evaluates: TensorFlow.js in this process, or the PyTorch worker (engines/torch). */
export const ENGINES = ['auto', 'tfjs', 'torch'] as const;
export type EngineChoice = (typeof ENGINES)[number];

export const DEVICES = ['auto', 'cuda', 'cpu'] as const;
export type DeviceChoice = (typeof DEVICES)[number];

export function parseEngine(value: string): EngineChoice {
  if (!(ENGINES as readonly string[]).includes(value))
    fail('CONFIG', `engine "${value}": choose one of ${ENGINES.join(', ')}`);
  return value as EngineChoice;
}

export function parseDevice(value: string): DeviceChoice {
  if (!(DEVICES as readonly string[]).includes(value))
    fail('CONFIG', `device "${value}": choose one of ${DEVICES.join(', ')}`);
  return value as DeviceChoice;
}

/** The Python package of the torch engine, shipped in the repository. */
export const TORCH_ENGINE_DIR = fileURLToPath(new URL('../../engines/torch', import.meta.url));

export const TORCH_INSTALL_HINT =
  'install Python 3 with torch, numpy and pillow (Debian: apt-get install python3-torch python3-numpy python3-pil), ' +
  'or set TIME_MERGE_PYTHON to an interpreter that has them';

/** TIME_MERGE_PYTHON, else the system interpreter (/usr/bin/python3, where Debian's torch lives), else python3. */
export function pythonExecutable(): string {
  return process.env.TIME_MERGE_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

export type TorchProbe =
  | { ok: true; python: string; torch: string; cuda: boolean }
  | { ok: false; python: string; reason: string };

/** Whether the interpreter can import torch, numpy and PIL (one short process). */
export function probeTorch(python = pythonExecutable()): Promise<TorchProbe> {
  return new Promise((resolve) => {
    const code =
      'import json, torch, numpy, PIL; print(json.dumps({"torch": torch.__version__, "cuda": torch.cuda.is_available()}))';
    const child = spawn(python, ['-c', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      resolve({
        ok: false,
        python,
        reason: `${python} cannot be started (${(e as NodeJS.ErrnoException).code ?? e.message})`,
      }),
    );
    child.on('close', (code) => {
      if (code === 0) {
        try {
          const j = JSON.parse(out) as { torch: string; cuda: boolean };
          return resolve({ ok: true, python, torch: j.torch, cuda: j.cuda });
        } catch {
          // fall through to the failure below
        }
      }
      const missing = /No module named '([^']+)'/.exec(err)?.[1];
      resolve({
        ok: false,
        python,
        reason: missing
          ? `${python} has no module "${missing}"`
          : `${python} failed to import torch (${err.trim().split('\n').pop() ?? `exit ${code}`})`,
      });
    });
  });
}
