/**
 * The contract every kernel backend implements (src/params/kernels/: the TypeScript reference, the native
 * addon, WebAssembly SIMD). The public functions in ./api.ts state each kernel's semantics and check
 * argument lengths once before dispatching, so a backend may assume equal lengths. Results must be the
 * reference's bits (dot and sumSquares: within n·2^-52 of Σ|terms|); properties/kernels.test.ts checks it.
 */
import type { tsMergeKernels } from './reference-techniques.js';

export type { DeltaTopKRule, DisjointMode, Election, TiesMergeOptions, TopKRule } from './reference-techniques.js';

/** The technique kernels' signatures, as the reference defines them. */
type TechniqueKernels = typeof tsMergeKernels;

/** The operations every backend implements (same contracts as the exported functions of ./api.ts). */
export interface KernelImpl extends TechniqueKernels {
  axpy(y: Float32Array, a: number, x: Float32Array): void;
  axpby(out: Float32Array, a: number, x: Float32Array, b: number, y: Float32Array): void;
  scale(y: Float32Array, a: number): void;
  lerp(out: Float32Array, a: Float32Array, b: Float32Array, t: number): void;
  weightedSum(out: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): void;
  weightedDeltaSum(out: Float32Array, base: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): void;
  addScaled(out: Float32Array, base: Float32Array, a: number, x: Float32Array): void;
  sub(out: Float32Array, a: Float32Array, b: Float32Array): void;
  dot(a: Float32Array, b: Float32Array): number;
  sumSquares(x: Float32Array): number;
  firstNonFinite(x: Float32Array): number;
  absMaxSelect(out: Float32Array, xs: readonly Float32Array[]): void;
  /** Optional fused form of weightedDeltaSum then addScaled (one pass; same results). */
  taskArithmetic?(
    out: Float32Array,
    base: Float32Array,
    xs: readonly Float32Array[],
    ws: readonly number[],
    lambda: number,
  ): void;
  /** Optional fused Breadcrumbs (see breadcrumbsLinear); false when it did not run. */
  breadcrumbsLinear?(
    out: Float32Array,
    base: Float32Array,
    xs: readonly Float32Array[],
    ws: readonly number[],
    lambda: number,
    nBottom: number,
    nTop: number,
  ): boolean;
}

/**
 * A backend other than the reference: what it accelerates (the rest runs the reference), loaded on first
 * use. `load` returns undefined when the backend is not built or does not load here.
 */
export interface KernelBackendDef<N extends string = string> {
  readonly name: N;
  /** The command that builds it, for the error when it is asked for but missing (none for the reference). */
  readonly build?: string;
  load(reference: KernelImpl): Partial<KernelImpl> | undefined;
}
