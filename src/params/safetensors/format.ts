/**
 * Constants of the safetensors format (https://github.com/huggingface/safetensors):
 * [u64 little-endian header length N][N bytes of UTF-8 JSON header][raw little-endian tensor data].
 */

import { own } from '../own.js';

/** Bytes of the length prefix. */
export const PREFIX_BYTES = 8;

/** The reference implementation refuses headers over 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * The most tensors one file's header may list. The largest released checkpoints list a few thousand per
 * shard; a header of 1.5 million entries (90 MB) took 37 s and 2.5 GB to parse before it failed, so the
 * count is checked first and a header beyond it is refused at once (docs/safetensors.md).
 */
export const MAX_HEADER_ENTRIES = 200_000;

export const METADATA_KEY = '__metadata__';

/** Every dtype the reference format defines, with its size in bits (F4 and F6 pack several per byte). */
export const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
};

/** The dtypes read() converts to float32. */
export const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;
export type FloatDType = (typeof FLOAT_DTYPES)[number];

/** Output dtypes a writer can produce. */
export const WRITE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type WriteDType = (typeof WRITE_DTYPES)[number];

export function isFloatDType(d: string): d is FloatDType {
  return (FLOAT_DTYPES as readonly string[]).includes(d);
}

export function isWriteDType(d: string): d is WriteDType {
  return (WRITE_DTYPES as readonly string[]).includes(d);
}

export function bytesPerElement(d: WriteDType | FloatDType): number {
  return (own(DTYPE_BITS, d) ?? Number.NaN) / 8;
}
