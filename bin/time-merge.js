#!/usr/bin/env node
// Runs the compiled, bundled CLI in dist/cli/ (built by `npm run build`, which `npm install` runs). When dist/ is
// missing or older than a source file, runs the TypeScript itself through tsx instead, so an edit is never
// silently ignored.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', 'package.json');

/** Newest modification time of the files dist/ is built from (sources, and assets copied into it). */
function newestSource(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'obj.target' && e.name !== 'node_modules') newest = Math.max(newest, newestSource(p));
    } else if (/\.(ts|json|wasm|node|ya?ml|py)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : -1;
if (built >= 0 && ['src', 'sims', 'engines'].every((top) => newestSource(join(root, top)) <= built)) {
  await import('../dist/cli/main.js');
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error(
      `time-merge: ${built < 0 ? 'dist/ is not built' : 'dist/ is older than the sources'}; run \`npm run build\``,
    );
    process.exit(2);
  }
  // Said on a terminal only: scripts and tests read this command's stderr for its own errors.
  if (process.stderr.isTTY) {
    console.error(
      `time-merge: ${built < 0 ? 'dist/ is not built' : 'dist/ is older than the sources'}; running the TypeScript through tsx (\`npm run build\` compiles it)`,
    );
  }
  register();
  await import('../src/cli/main.ts');
}
