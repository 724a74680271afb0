/**
 * safetensors I/O: streaming reads (one positional read per tensor), streaming writes through a
 * temporary file, sharded checkpoints, and F16/BF16/F64 conversion to and from float32.
 */
export { openSafetensors, SafetensorsFile, type OpenOptions, type RawArray } from './reader.js';
export { openCheckpoint, readSafetensors, INDEX_SUFFIX, type Checkpoint } from './checkpoint.js';
export {
  createSafetensorsWriter,
  processAlive,
  removeLiveTemporaries,
  removeStaleTemporaries,
  writeSafetensors,
  SafetensorsWriter,
  type WriteOptions,
} from './writer.js';
export { parseHeader, headerLength, type HeaderEntry, type ParsedHeader } from './header.js';
export {
  DTYPE_BITS,
  FLOAT_DTYPES,
  WRITE_DTYPES,
  MAX_HEADER_BYTES,
  isWriteDType,
  type FloatDType,
  type WriteDType,
} from './format.js';
export { planShards, ShardedWriter, SHARD_INDEX_NAME, tensorBytes, type ShardPlan } from './sharded-writer.js';
