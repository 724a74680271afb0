import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
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

/** Where the chosen interpreter came from (printed at start, recorded in config.json). */
export type PythonSource = 'TIME_MERGE_PYTHON' | 'config' | 'PATH' | 'system';

export const PYTHON_SOURCES: Readonly<Record<PythonSource, string>> = {
  TIME_MERGE_PYTHON: 'from TIME_MERGE_PYTHON',
  config: 'from the config\'s "python"',
  PATH: 'the first python3 on PATH that imports torch',
  system: 'the system python3; no python3 on PATH imports torch',
};

/** The system interpreter: /usr/bin/python3 (where Debian's torch lives), else python3. */
function systemPython(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The one rule for the torch engine's interpreter (the CLI, the benchmarks, the tests and
 * benchmarks/gpu-check.sh follow it): TIME_MERGE_PYTHON, else the config's `python:`, else the first
 * `python3` on PATH that imports torch (a venv or conda env ahead of the system one wins), else the
 * system python3. The probe of the chosen interpreter comes with it.
 */
export async function choosePython(
  configPython?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ source: PythonSource; probe: TorchProbe }> {
  if (env.TIME_MERGE_PYTHON) return { source: 'TIME_MERGE_PYTHON', probe: await probeTorch(env.TIME_MERGE_PYTHON) };
  if (configPython) return { source: 'config', probe: await probeTorch(configPython) };
  const seen = new Set<string>();
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir || '.', 'python3');
    if (!executable(candidate)) continue;
    const real = realpathSync(candidate);
    if (seen.has(real)) continue;
    seen.add(real);
    const probe = await probeTorch(candidate);
    if (probe.ok) return { source: 'PATH', probe };
  }
  return { source: 'system', probe: await probeTorch(systemPython()) };
}

export type TorchProbe =
  | {
      ok: true;
      python: string;
      torch: string;
      /** Whether torch sees a CUDA GPU (torch.cuda.is_available()). */
      cuda: boolean;
      /** The CUDA version torch was built with (torch.version.cuda); null for a CPU-only build. */
      cudaBuild: string | null;
      /** The first GPU's name, when there is one. */
      gpu: string | null;
    }
  | { ok: false; python: string; reason: string };

/** Whether the interpreter can import torch, numpy and PIL (one short process). */
export function probeTorch(python: string): Promise<TorchProbe> {
  return new Promise((resolve) => {
    const code =
      'import json, torch, numpy, PIL; c = torch.cuda.is_available(); ' +
      'print(json.dumps({"torch": torch.__version__, "cuda": c, "cudaBuild": torch.version.cuda, ' +
      '"gpu": torch.cuda.get_device_name(0) if c else None}))';
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
          const j = JSON.parse(out.trim().split('\n').pop()!) as {
            torch: string;
            cuda: boolean;
            cudaBuild?: string | null;
            gpu?: string | null;
          };
          return resolve({
            ok: true,
            python,
            torch: j.torch,
            cuda: j.cuda,
            cudaBuild: j.cudaBuild ?? null,
            gpu: j.gpu ?? null,
          });
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

/** What the interpreter reported about CUDA, for the messages that refuse or explain a device. */
export function cudaReport(p: Extract<TorchProbe, { ok: true }>): string {
  return p.cuda
    ? `torch ${p.torch} at ${p.python} sees ${p.gpu ?? 'a CUDA GPU'}`
    : `torch ${p.torch} at ${p.python} sees no CUDA GPU (torch.cuda.is_available() is False; ${p.cudaBuild ? `built for CUDA ${p.cudaBuild}` : 'a CPU-only build'})`;
}

/**
 * The torch device a run takes: `cpu` and `cuda` as asked, `auto` cuda when torch sees a GPU. Asking for
 * cuda (or for GPUs) where torch sees none is an error naming the interpreter: never a silent CPU run.
 */
export function resolveDevice(
  asked: DeviceChoice,
  p: Extract<TorchProbe, { ok: true }>,
  gpus?: string,
): { device: 'cuda' | 'cpu'; why: string } {
  const cure = 'set TIME_MERGE_PYTHON (or "python:" in the config) to an interpreter whose torch has CUDA';
  if (gpus !== undefined && !p.cuda)
    fail('CONFIG', `--gpus ${gpus}: ${cudaReport(p)}; ${cure}, or leave --gpus out to run on the CPU`);
  if (asked === 'cuda' && !p.cuda) fail('CONFIG', `device "cuda": ${cudaReport(p)}; ${cure}, or set device: cpu`);
  if (gpus !== undefined || asked === 'cuda') return { device: 'cuda', why: p.gpu ?? 'cuda' };
  if (asked === 'cpu') return { device: 'cpu', why: 'device: cpu in the config' };
  return p.cuda
    ? { device: 'cuda', why: `auto: ${p.gpu ?? 'a CUDA GPU'}` }
    : { device: 'cpu', why: `auto: ${cudaReport(p)}` };
}
