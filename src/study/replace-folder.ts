import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TimeMergeError } from '../params/errors.js';

/**
 * The sibling folder where `target` is written anew (`results/.default.partial`): on the same file
 * system, so the finished folder can be renamed into place. Its name is fixed, so a rerun after an
 * interruption resumes the runs kept there; the results folder's lock keeps two runs out of it.
 */
export function partialFolder(target: string): string {
  return join(dirname(target), `.${basename(target)}.partial`);
}

/**
 * Puts the complete folder `from` at `to`, replacing what was there. The old folder is moved aside
 * first and deleted last, so an interruption at any point leaves one complete copy (the old one under
 * `.<name>.old-<pid>` if it stops between the two renames).
 */
export async function replaceFolder(from: string, to: string): Promise<void> {
  const aside = join(dirname(to), `.${basename(to)}.old-${process.pid}`);
  try {
    if (existsSync(to)) await rename(to, aside);
    await rename(from, to);
  } catch (e) {
    throw new TimeMergeError('IO', `cannot move ${from} to ${to}: ${(e as Error).message}`, { cause: e });
  }
  await rm(aside, { recursive: true, force: true });
}
