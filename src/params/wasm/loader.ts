import type { KernelImpl } from '../kernels.js';

/** The WebAssembly SIMD kernels, or undefined when their binary is not built (callers fall back to ts). */
export function loadWasmKernels(_fallback: KernelImpl): KernelImpl | undefined {
  return undefined;
}
