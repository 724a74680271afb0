import { fail } from '../errors.js';

/** The one length check of the kernels: every array as long as n, else a MISMATCH error naming the kernel. */
export function checkLen(kernel: string, n: number, ...arrs: readonly { readonly length: number }[]): void {
  for (const a of arrs) {
    if (a.length !== n) fail('MISMATCH', `kernel ${kernel}: array lengths differ (${n} vs ${a.length})`);
  }
}

/** One weight per array, and every array as long as n. */
export function checkList(kernel: string, n: number, xs: readonly Float32Array[], ws: readonly number[]): void {
  if (xs.length !== ws.length) fail('MISMATCH', `kernel ${kernel}: ${xs.length} arrays but ${ws.length} weights`);
  for (const x of xs) checkLen(kernel, n, x);
}
