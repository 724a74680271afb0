import { lstatSync } from 'node:fs';
import { lstat, rename } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { fail } from './errors.js';

/**
 * Outputs are written to a temporary file and renamed over their target. A rename replaces whatever
 * the target is: `-o /dev/null` run as root replaced the system's /dev/null with a regular file, and a
 * FIFO or a symlink would lose what it is, silently. So a target must be absent or a regular file;
 * anything else is refused (a CONFIG error, exit 2) before any work, and checked again just before the
 * rename, in case it changed meanwhile.
 */
function kindOf(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function refuse(path: string, kind: string): never {
  fail(
    'CONFIG',
    `${path}: is ${kind}; an output is written to a new file renamed over its path, so give a regular file's path`,
  );
}

/** Refuses a target that exists and is not a regular file (symlinks are not followed). */
export function checkReplaceable(path: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return; // absent (or unreadable: the write itself will say so)
  }
  const kind = kindOf(st);
  if (kind) refuse(path, kind);
}

/** rename(from, to), unless `to` has become something other than a regular file. */
export async function renameOver(from: string, to: string): Promise<void> {
  const st = await lstat(to).catch(() => undefined);
  const kind = st && kindOf(st);
  if (kind) refuse(to, kind);
  await rename(from, to);
}
