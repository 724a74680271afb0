/**
 * The one error type the project throws on bad input. `code` lets callers and tests tell problems apart
 * without matching message text; the message always names the file, tensor or setting at fault.
 */
export type ErrorCode =
  | 'SAFETENSORS' // a malformed or unsupported safetensors file
  | 'IO' // a missing or unreadable file
  | 'MISMATCH' // tensors whose names, shapes or dtypes disagree
  | 'CONFIG' // a bad configuration or parameter value
  | 'MERGE' // a merge that cannot be computed (e.g. weights summing to zero)
  | 'PIPELINE' // a failure inside the TIME loop (e.g. an external trainer's non-zero exit)
  | 'DATA'; // a malformed dataset or stream file

export class TimeMergeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TimeMergeError';
    this.code = code;
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new TimeMergeError(code, message);
}
