// Whether dist/ (the compiled, bundled CLI) is built and newer than every file it is built from. Read by
// bin/time-merge.js before each command and by the test setup, which builds dist/ when it is not.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

/** 'fresh', 'stale' (a source file is newer) or 'missing', for the checkout at `root`. */
export function distState(root) {
  const stamp = join(root, 'dist', 'package.json');
  if (!existsSync(stamp)) return 'missing';
  const built = statSync(stamp).mtimeMs;
  return ['src', 'sims', 'engines'].every((top) => newestSource(join(root, top)) <= built) ? 'fresh' : 'stale';
}
