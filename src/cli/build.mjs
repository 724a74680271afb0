// Compiles the TypeScript of src/ and sims/ into dist/ (same layout), so the CLI starts without compiling
// anything. Files the code reads beside itself (the wasm and native kernels, JSON tables, the built-in
// study files, the torch engine's Python) are copied next to their compiled readers. The CLI itself is
// then bundled from that tree into dist/cli/ (see bundleCli). dist/package.json, written last, gives the
// compiled tree the package's version and marks the build complete (bin/time-merge.js compares source
// times against it).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
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
for (const [top, re] of [
  ['src', ASSET],
  ['sims', ASSET],
  ['engines', /\.py$/],
  // The programs \`time-merge run --demo\` copies into its folder.
  [join('src', 'cli', 'run-demo'), /\.(py|mjs)$/],
]) {
  for (const file of files(join(root, top), re)) {
    const to = join(dist, relative(root, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
    assets++;
  }
}

// Packages kept out of the bundle: native or wasm binaries loaded beside their own files, and the large
// libraries only the CLIP and report commands load (on first use, from node_modules as before).
const EXTERNAL = ['@tensorflow/*', '@resvg/*', 'sharp', 'vega', 'vega-lite', 'puppeteer-core', '*.node'];

/**
 * Bundles the compiled CLI into dist/cli/: main.js and chunks that each command's lazy imports load on
 * first use, so a command starts from a handful of files instead of about 170 modules (yaml alone is 72).
 * Every `import.meta.url` is rewritten to the URL its module had in the compiled tree, so the files it
 * locates (kernels, tables, study files, worker entry points) are the ones copied there above.
 */
async function bundleCli() {
  const esbuild = await import('esbuild');
  const outdir = join(dist, 'cli');
  const moduleUrls = {
    name: 'compiled-module-urls',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(dist + sep)) return undefined;
        const text = await readFile(args.path, 'utf8');
        const own = JSON.stringify(relative(outdir, args.path).split(sep).join('/'));
        return {
          contents: text.replaceAll('import.meta.url', `new URL(${own}, import.meta.url).href`),
          loader: 'js',
          resolveDir: dirname(args.path),
        };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [join(dist, 'src', 'cli', 'main.js')],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir,
    external: EXTERNAL,
    // Bundled CommonJS packages (yaml, commander, seedrandom) call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __tmRequire } from 'node:module'; const require = __tmRequire(import.meta.url);",
    },
    plugins: [moduleUrls],
    metafile: true,
    absWorkingDir: dist, // the metafile's paths are then relative to dist/
    logLevel: 'warning',
  });
  // Which sources each output file holds (the compiled-CLI test reads it to see what a command loaded).
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  return Object.keys(result.metafile.outputs).length;
}

let bundled;
try {
  bundled = await bundleCli();
} catch (err) {
  console.error(`build:dist: bundling the CLI failed: ${err.message}`);
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(
  join(dist, 'package.json'),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2)}\n`,
);
console.log(
  `build:dist: ${relative(process.cwd(), dist) || '.'} (compiled src/ and sims/, ${assets} assets copied, CLI bundled into ${bundled} files)`,
);
