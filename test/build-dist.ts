import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { distState } from '../bin/dist-state.js';

/**
 * Vitest global setup: builds dist/ when it is missing or older than a source file, so the tests that run
 * bin/time-merge.js (test/cli-terminal.ts) run the bundle users run, never the sources through tsx.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  if (distState(root) === 'fresh') return;
  const r = spawnSync(process.execPath, [join(root, 'src', 'cli', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building dist/ for the CLI tests failed (node src/cli/build.mjs)');
}
