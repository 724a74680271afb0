/**
 * The kernel backends, fastest first, and which one runs. TIME_MERGE_KERNELS=<name> selects one; the
 * default is the first that is built and loads (the reference always does). `useKernels()` switches at
 * run time. Adding a backend: a folder beside ./native and ./wasm whose loader returns the kernels it
 * accelerates, and one entry in KERNEL_BACKENDS (properties/kernels.test.ts then checks it against the
 * reference).
 */
import { fail } from '../errors.js';
import type { KernelBackendDef, KernelImpl } from './contract.js';
import { loadNativeKernels } from './native/loader.js';
import { tsKernels } from './reference.js';
import { loadWasmKernels } from './wasm/loader.js';

export const KERNEL_BACKENDS = [
  // C through Node-API: every kernel, threaded over large arrays (src/params/kernels/native/).
  { name: 'native', build: 'npm run build:native', load: loadNativeKernels },
  // WebAssembly SIMD, elementwise kernels only: the fallback that needs no C toolchain (docs/benchmarks.md).
  { name: 'wasm', build: 'npm run build:wasm', load: loadWasmKernels },
  { name: 'ts', load: () => tsKernels },
] as const satisfies readonly KernelBackendDef[];

export type KernelBackend = (typeof KERNEL_BACKENDS)[number]['name'];

const NAMES: readonly string[] = KERNEL_BACKENDS.map((b) => b.name);
/** "ts, wasm or native": the names for error messages, reference first. */
const NAME_LIST = (() => {
  const n = [...NAMES].reverse();
  return n.length > 1 ? `${n.slice(0, -1).join(', ')} or ${n[n.length - 1]}` : n[0];
})();

// undefined: not tried yet; null: unavailable
const loaded = new Map<KernelBackend, KernelImpl | null>();

function tryLoad(name: KernelBackend): KernelImpl | undefined {
  if (!loaded.has(name)) {
    const def: KernelBackendDef = KERNEL_BACKENDS.find((b) => b.name === name)!;
    const impl = def.load(tsKernels);
    // What a backend leaves out runs the reference.
    loaded.set(name, impl === undefined ? null : impl === tsKernels ? tsKernels : { ...tsKernels, ...impl });
  }
  return loaded.get(name) ?? undefined;
}

/** The backend every public kernel dispatches to (a live binding: ./api.ts reads it on each call). */
export let active: KernelImpl = tsKernels;
let activeName: KernelBackend = 'ts';

/** Selects the backend; one that is not built throws a CONFIG error saying how to build it. */
export function useKernels(backend: KernelBackend): void {
  const def: KernelBackendDef | undefined = KERNEL_BACKENDS.find((b) => b.name === backend);
  if (!def) fail('CONFIG', `TIME_MERGE_KERNELS: unknown kernel backend "${backend as string}" (use ${NAME_LIST})`);
  const impl = tryLoad(backend);
  if (!impl) fail('CONFIG', `TIME_MERGE_KERNELS=${backend}: the ${backend} kernels are not built (run ${def.build})`);
  active = impl;
  activeName = backend;
}

/** The backend in use now. */
export function kernelBackend(): KernelBackend {
  return activeName;
}

/** Whether the WebAssembly build can be used on this install. */
export function wasmKernelsAvailable(): boolean {
  return tryLoad('wasm') !== undefined;
}

/** Whether the native addon is built and loads on this install. */
export function nativeKernelsAvailable(): boolean {
  return tryLoad('native') !== undefined;
}

/** The backends that load here, fastest first (always ends with 'ts'). */
export function availableKernels(): KernelBackend[] {
  return KERNEL_BACKENDS.map((b) => b.name).filter((name) => tryLoad(name) !== undefined);
}

{
  const env = process.env.TIME_MERGE_KERNELS;
  if (env !== undefined && env !== '' && !NAMES.includes(env))
    fail('CONFIG', `TIME_MERGE_KERNELS="${env}": use ${NAME_LIST}`);
  useKernels(env ? (env as KernelBackend) : availableKernels()[0]);
}
