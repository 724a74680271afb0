import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TimeMergeError } from '../params/errors.js';

/** Writes to a hidden temporary name beside the target, then renames: readers never see a half file. */
export function writeAtomic(file: string, content: string | Uint8Array): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${path.basename(file)}-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, content);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new TimeMergeError('IO', `could not write ${file} (${(err as Error).message})`, { cause: err });
  }
}
