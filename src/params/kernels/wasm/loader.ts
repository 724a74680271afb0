import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail } from '../../errors.js';
import type { KernelImpl } from '../contract.js';

// lib ES2023 has no WebAssembly declarations; Node provides the global at run time.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/**
 * The WebAssembly SIMD kernels (built from ./assembly/kernels.ts by `npm run build:wasm`, which `prepare`
 * runs on install), wrapped to the KernelImpl contract; lengths are checked by ../api.ts.
 *
 * Tensors live in the JS heap, not in wasm memory, so each call streams its arrays through a fixed
 * scratch window in wasm memory, one chunk at a time: copy the input chunks in (memcpy), run the SIMD
 * loop on them while they sit in L1/L2, copy the result chunk out. Main-memory traffic is the same as a
 * loop over the original arrays (each input read once, the output written once); the extra copies hit
 * cache only. Nothing is allocated per call apart from small subarray views.
 */

/** Floats per scratch slot: 4 slots of 64 KiB stay inside a 512 KiB L2 cache. */
const CHUNK = 16384;
const SLOTS = 4;
/** Below this length the per-call set-up costs more than the SIMD loop saves. */
const SMALL = 32;
const ALIAS_SHIFT = 2048;

interface Exports {
  memory: WasmMemory;
  axpy(y: number, x: number, a: number, n: number): void;
  axpy2(y: number, x1: number, a1: number, x2: number, a2: number, n: number): void;
  axpby(out: number, x: number, a: number, y: number, b: number, n: number): void;
  scale(y: number, a: number, n: number): void;
  lerp(out: number, a: number, b: number, t: number, n: number): void;
  mulTo(out: number, x: number, w: number, n: number): void;
  deltaMulTo(out: number, x: number, base: number, w: number, n: number): void;
  deltaAxpy(out: number, x: number, base: number, w: number, n: number): void;
  addScaled(out: number, base: number, a: number, x: number, n: number): void;
  sub(out: number, a: number, b: number, n: number): void;
  dot(a: number, b: number, n: number): number;
  sumSquares(x: number, n: number): number;
  firstNonFinite(x: number, n: number): number;
  absMaxInto(out: number, x: number, n: number): void;
}

/** Where the compiled module lives (next to this file; gitignored, rebuilt from source). */
export const WASM_PATH = fileURLToPath(new URL('./kernels.wasm', import.meta.url));

/** The WebAssembly SIMD kernels, or undefined when their binary is not built (callers fall back to ts). */
export function loadWasmKernels(ts: KernelImpl): Partial<KernelImpl> | undefined {
  if (typeof WebAssembly === 'undefined' || !existsSync(WASM_PATH)) return undefined;
  let ex: Exports;
  try {
    const mod = new WebAssembly.Module(readFileSync(WASM_PATH));
    ex = new WebAssembly.Instance(mod, { env: { abort: () => fail('IO', `${WASM_PATH}: wasm kernel aborted`) } })
      .exports as unknown as Exports;
  } catch (e) {
    // An unreadable or stale build is not fatal: the TypeScript kernels compute the same values.
    process.emitWarning(`time-merge: ignoring WebAssembly kernels at ${WASM_PATH}: ${(e as Error).message}`);
    return undefined;
  }
  // Scratch window past everything the module itself uses; memory is grown once, so views stay valid.
  const mem = ex.memory;
  // Slots sit at page offset 2048. memmove between two arrays whose addresses are a few bytes apart
  // modulo 4 KiB runs ~10x slower (4K aliasing of loads behind stores); large JS typed arrays come from
  // mmap at page offset 16, so a page-aligned window would hit exactly that case on every copy-out.
  const start = mem.buffer.byteLength + ALIAS_SHIFT;
  mem.grow(Math.ceil((SLOTS * CHUNK * 4 + ALIAS_SHIFT) / 65536));
  const F = new Float32Array(mem.buffer);
  const slot = (s: number) => start / 4 + s * CHUNK; // float index
  const A = slot(0),
    X = slot(1),
    Y = slot(2);
  const pA = A * 4,
    pX = X * 4,
    pY = Y * 4;

  /** Runs body(offset, count) over [0, n) in chunks, then copies slot A out to `out` when given. */
  const chunks = (n: number, out: Float32Array | undefined, body: (o: number, c: number) => void) => {
    for (let o = 0; o < n; o += CHUNK) {
      const c = Math.min(CHUNK, n - o);
      body(o, c);
      if (out) out.set(F.subarray(A, A + c), o);
    }
  };
  const load = (at: number, x: Float32Array, o: number, c: number) => F.set(x.subarray(o, o + c), at);

  // The technique kernels (selection, TIES, draws) have no WebAssembly version: the reference runs them.
  return {
    axpy(y, a, x) {
      if (y.length < SMALL) return ts.axpy(y, a, x);
      chunks(y.length, y, (o, c) => {
        load(A, y, o, c);
        load(X, x, o, c);
        ex.axpy(pA, pX, a, c);
      });
    },
    axpby(out, a, x, b, y) {
      if (out.length < SMALL) return ts.axpby(out, a, x, b, y);
      chunks(out.length, out, (o, c) => {
        load(X, x, o, c);
        load(Y, y, o, c);
        ex.axpby(pA, pX, a, pY, b, c);
      });
    },
    scale(y, a) {
      if (y.length < SMALL) return ts.scale(y, a);
      chunks(y.length, y, (o, c) => {
        load(A, y, o, c);
        ex.scale(pA, a, c);
      });
    },
    lerp(out, a, b, t) {
      if (out.length < SMALL) return ts.lerp(out, a, b, t);
      chunks(out.length, out, (o, c) => {
        load(X, a, o, c);
        load(Y, b, o, c);
        ex.lerp(pA, pX, pY, t, c);
      });
    },
    weightedSum(out, xs, ws) {
      if (out.length < SMALL || xs.length === 0) return ts.weightedSum(out, xs, ws);
      const K = xs.length;
      chunks(out.length, out, (o, c) => {
        load(X, xs[0], o, c);
        let k = 1;
        if (K >= 2) {
          load(Y, xs[1], o, c);
          ex.axpby(pA, pX, ws[0], pY, ws[1], c);
          k = 2;
        } else ex.mulTo(pA, pX, ws[0], c);
        for (; k + 1 < K; k += 2) {
          load(X, xs[k], o, c);
          load(Y, xs[k + 1], o, c);
          ex.axpy2(pA, pX, ws[k], pY, ws[k + 1], c);
        }
        if (k < K) {
          load(X, xs[k], o, c);
          ex.axpy(pA, pX, ws[k], c);
        }
      });
    },
    weightedDeltaSum(out, base, xs, ws) {
      if (out.length < SMALL || xs.length === 0) return ts.weightedDeltaSum(out, base, xs, ws);
      chunks(out.length, out, (o, c) => {
        load(Y, base, o, c);
        load(X, xs[0], o, c);
        ex.deltaMulTo(pA, pX, pY, ws[0], c);
        for (let k = 1; k < xs.length; k++) {
          load(X, xs[k], o, c);
          ex.deltaAxpy(pA, pX, pY, ws[k], c);
        }
      });
    },
    addScaled(out, base, a, x) {
      if (out.length < SMALL) return ts.addScaled(out, base, a, x);
      chunks(out.length, out, (o, c) => {
        load(Y, base, o, c);
        load(X, x, o, c);
        ex.addScaled(pA, pY, a, pX, c);
      });
    },
    sub(out, a, b) {
      if (out.length < SMALL) return ts.sub(out, a, b);
      chunks(out.length, out, (o, c) => {
        load(X, a, o, c);
        load(Y, b, o, c);
        ex.sub(pA, pX, pY, c);
      });
    },
    dot(a, b) {
      if (a.length < SMALL) return ts.dot(a, b);
      let s = 0;
      chunks(a.length, undefined, (o, c) => {
        load(X, a, o, c);
        load(Y, b, o, c);
        s += ex.dot(pX, pY, c);
      });
      return s;
    },
    sumSquares(x) {
      if (x.length < SMALL) return ts.sumSquares(x);
      let s = 0;
      chunks(x.length, undefined, (o, c) => {
        load(X, x, o, c);
        s += ex.sumSquares(pX, c);
      });
      return s;
    },
    firstNonFinite(x) {
      if (x.length < SMALL) return ts.firstNonFinite(x);
      for (let o = 0; o < x.length; o += CHUNK) {
        const c = Math.min(CHUNK, x.length - o);
        load(X, x, o, c);
        const i = ex.firstNonFinite(pX, c);
        if (i >= 0) return o + i;
      }
      return -1;
    },
    absMaxSelect(out, xs) {
      if (out.length < SMALL) return ts.absMaxSelect(out, xs);
      chunks(out.length, out, (o, c) => {
        load(A, xs[0], o, c);
        for (let k = 1; k < xs.length; k++) {
          load(X, xs[k], o, c);
          ex.absMaxInto(pA, pX, c);
        }
      });
    },
  };
}
