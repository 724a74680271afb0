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
    super(shortenWords(message), options);
    this.name = 'TimeMergeError';
    this.code = code;
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new TimeMergeError(code, message);
}

/** Longer than this, one word of a message (a name, a value, a path) is shown cut in the middle. */
export const MAX_WORD = 300;

/**
 * Messages quote what the user wrote, and an unknown name can be a megabyte long: every word longer than
 * MAX_WORD characters keeps its start and end around a count of what was left out, so the one-line error
 * stays one readable line whatever the input.
 */
function shortenWords(message: string): string {
  if (message.length <= MAX_WORD) return message;
  return message.replace(
    new RegExp(`[^\\s"]{${MAX_WORD + 1},}`, 'g'),
    (w) => `${w.slice(0, 120)}…[${w.length - 180} more characters]…${w.slice(-60)}`,
  );
}
