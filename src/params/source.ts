import type { TensorInfo } from './tensor.js';

/**
 * Anything that can hand out named tensors one at a time: an in-memory ParamSet or a safetensors file
 * on disk. Merges stream over sources tensor by tensor, so a model never has to be resident as a whole.
 */
export interface TensorSource {
  /** What this source is, for error messages (a file path, "expert 3", ...). */
  readonly label: string;
  /** Every tensor, in the source's order. */
  tensorInfos(): readonly TensorInfo[];
  /**
   * The tensor's values as float32. Callers must not modify the returned array: an in-memory source
   * returns its own storage without copying.
   */
  read(name: string): Promise<Float32Array>;
  /**
   * Fails (an IO error naming the file) when values read for `name` may not be the file's: a file
   * mapped into memory that shrank under the read. Called after a tensor's values are used and before
   * anything computed from them is written.
   */
  verify?(name: string): void;
}
