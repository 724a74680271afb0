// Compiles the TypeScript of src/ and sims/ into dist/ (same layout), so the CLI starts without compiling
// anything. Files the code reads beside itself (the wasm and native kernels, JSON tables, the built-in study files) are copied next
// to their compiled readers; dist/package.json, written last, gives the compiled tree the package's
// version and marks the build complete (bin/time-merge.js compares source times against it).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// --out DIR builds elsewhere (tests do, so as not to replace the dist/ other processes run); DIR must be
// inside the checkout, where the compiled files still find node_modules/.
const outAt = process.argv.indexOf('--out');
const dist = outAt > 0 ? resolve(process.argv[outAt + 1]) : join(root, 'dist');
if (relative(root, dist).startsWith('..')) {
  console.error(`build:dist: --out ${dist} must be inside ${root}`);
  process.exit(1);
}
const ASSET = /\.(json|wasm|node|ya?ml)$/;

/** Every file under dir (skipping node-gyp's intermediate objects) whose name matches re. */
function* files(dir, re) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'obj.target' && e.name !== 'node_modules') yield* files(p, re);
    } else if (re.test(e.name)) yield p;
  }
}

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], {
  stdio: 'inherit',
});
if (r.status !== 0) {
  console.error('build:dist: tsc failed');
  process.exit(1);
}
let assets = 0;
for (const top of ['src', 'sims']) {
  for (const file of files(join(root, top), ASSET)) {
    const to = join(dist, relative(root, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
    assets++;
  }
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(
  join(dist, 'package.json'),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2)}\n`,
);
console.log(`build:dist: ${relative(process.cwd(), dist) || '.'} (compiled src/ and sims/, ${assets} assets copied)`);
