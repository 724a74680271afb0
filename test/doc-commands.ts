/**
 * The `time-merge` command lines of a docs page's example block, to run exactly as printed: the first
 * fenced block after `heading`, its lines that start with `time-merge`, comments cut, split into words.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..');

export function docCommands(page: string, heading: string): string[][] {
  const doc = readFileSync(join(ROOT, page), 'utf8');
  const at = doc.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`${page}: no heading "${heading}"`);
  const open = doc.indexOf('```', at);
  const start = doc.indexOf('\n', open) + 1;
  const block = doc.slice(start, doc.indexOf('```', start));
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('time-merge '))
    .map((l) => l.split(/\s+/).slice(1));
}

/** Runs `time-merge ARGS` from the bundle (bin/time-merge.js), as a user's shell would, in `cwd`. */
export function timeMerge(args: readonly string[], cwd: string) {
  return promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'time-merge.js'), ...args], {
    cwd,
    maxBuffer: 1 << 24,
  });
}
