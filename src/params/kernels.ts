/**
 * Vector kernels for the merge inner loops, over Float32Array (the merge techniques import them from
 * here). Under ./kernels/: the contract (contract.ts), the public functions that check lengths and
 * dispatch (api.ts), the backend list and selection (backends.ts), and the backends side by side: the
 * TypeScript reference (reference.ts, reference-techniques.ts), the native C addon (native/) and
 * WebAssembly SIMD (wasm/). docs/benchmarks.md compares them.
 */
export * from './kernels/api.js';
export {
  availableKernels,
  kernelBackend,
  nativeKernelsAvailable,
  useKernels,
  wasmKernelsAvailable,
  KERNEL_BACKENDS,
  type KernelBackend,
} from './kernels/backends.js';
export type {
  DeltaTopKRule,
  DisjointMode,
  Election,
  KernelBackendDef,
  KernelImpl,
  TiesMergeOptions,
  TopKRule,
} from './kernels/contract.js';
export { tsKernels } from './kernels/reference.js';
