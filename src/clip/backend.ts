import * as tf from '@tensorflow/tfjs';
import { fail } from '../params/errors.js';

export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export function parseBackend(value: string): BackendChoice {
  if (!(BACKENDS as readonly string[]).includes(value))
    fail('CONFIG', `backend "${value}": choose one of ${BACKENDS.join(', ')}`);
  return value as BackendChoice;
}

// Optional packages: loaded by a computed name so that neither TypeScript nor the bundler requires them.
async function optionalImport(name: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ name);
    return true;
  } catch {
    return false;
  }
}

async function tryNative(): Promise<boolean> {
  // tfjs-node-gpu first: it registers the same 'tensorflow' backend, with CUDA.
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if ((await optionalImport(pkg)) && (await tf.setBackend('tensorflow').catch(() => false))) return true;
  }
  return false;
}

async function tryWebgpu(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return false;
  try {
    if (!(await gpu.requestAdapter())) return false;
  } catch {
    return false;
  }
  if (!(await optionalImport('@tensorflow/tfjs-backend-webgpu'))) return false;
  return tf.setBackend('webgpu').catch(() => false);
}

async function tryWasm(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-wasm');
  return tf.setBackend('wasm').catch(() => false);
}

const attempts: Record<Exclude<BackendChoice, 'auto'>, () => Promise<boolean>> = {
  tensorflow: tryNative,
  webgpu: tryWebgpu,
  wasm: tryWasm,
  cpu: () => tf.setBackend('cpu'),
};

/** Why a forced backend may not start, and what would make it start. */
const UNAVAILABLE: Partial<Record<Exclude<BackendChoice, 'auto'>, string>> = {
  tensorflow:
    'neither @tensorflow/tfjs-node-gpu (CUDA) nor @tensorflow/tfjs-node is installed (their install downloads libtensorflow); ' +
    'for GPU training use the PyTorch engine, --engine torch',
  webgpu:
    'Node has no navigator.gpu unless the `webgpu` package (Dawn bindings) provides one and an adapter exists, and ' +
    '@tensorflow/tfjs-backend-webgpu must be installed too; for GPU training use the PyTorch engine, --engine torch',
};

/**
 * Picks the tensor backend: the native TensorFlow binding when installed, else WebGPU when an adapter
 * exists, else wasm, else plain JS; a forced choice that cannot start is an error. Returns its name.
 */
export async function selectBackend(
  choice: BackendChoice = 'auto',
  log: (msg: string) => void = () => {},
): Promise<string> {
  const order: Exclude<BackendChoice, 'auto'>[] =
    choice === 'auto' ? ['tensorflow', 'webgpu', 'wasm', 'cpu'] : [choice];
  for (const name of order) {
    if (await attempts[name]()) {
      await tf.ready();
      log(`tensor backend: ${tf.getBackend()}${choice === 'auto' ? ' (auto)' : ' (forced)'}`);
      return tf.getBackend();
    }
  }
  fail(
    'CONFIG',
    `tensor backend "${choice}" is not available here: ${UNAVAILABLE[choice as Exclude<BackendChoice, 'auto'>] ?? 'install its package'} (or use --backend wasm or cpu)`,
  );
}
