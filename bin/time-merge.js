#!/usr/bin/env node
// Runs the compiled, bundled CLI in dist/cli/ (built by `npm run build`, which `npm install` runs). When dist/ is
// missing or older than a source file, runs the TypeScript itself through tsx instead, so an edit is never
// silently ignored.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distState } from './dist-state.js';

const state = distState(join(dirname(fileURLToPath(import.meta.url)), '..'));
if (state === 'fresh') {
  await import('../dist/cli/main.js');
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error(
      `time-merge: ${state === 'missing' ? 'dist/ is not built' : 'dist/ is older than the sources'}; run \`npm run build\``,
    );
    process.exit(2);
  }
  // Said on a terminal only: scripts and tests read this command's stderr for its own errors.
  if (process.stderr.isTTY) {
    console.error(
      `time-merge: ${state === 'missing' ? 'dist/ is not built' : 'dist/ is older than the sources'}; running the TypeScript through tsx (\`npm run build\` compiles it)`,
    );
  }
  register();
  await import('../src/cli/main.ts');
}
