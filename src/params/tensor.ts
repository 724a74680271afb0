import { fail } from './errors.js';

/** Storage dtypes the project reads (all are computed on as float32). */
export type DType = 'F32' | 'F16' | 'BF16' | 'F64';

export const DTYPES: readonly DType[] = ['F32', 'F16', 'BF16', 'F64'];

export interface Tensor {
  readonly shape: readonly number[];
  /** The dtype the tensor was stored in (or should be written in); data is always float32 in memory. */
  readonly dtype: DType;
  readonly data: Float32Array;
}

/** Name, shape and dtype of a tensor, without its data. */
export interface TensorInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function checkShape(name: string, shape: readonly number[], length: number): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    fail('MISMATCH', `tensor "${name}": shape ${formatShape(shape)} must hold non-negative integers`);
  }
  if (numel(shape) !== length) {
    fail('MISMATCH', `tensor "${name}": shape ${formatShape(shape)} needs ${numel(shape)} values, data has ${length}`);
  }
}
