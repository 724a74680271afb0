// Builds the native kernels (./src/*.c, ./binding.gyp) with node-gyp into ./build/Release. Run by
// `npm run build:native` and by `prepare` on install. A failed build never fails the install: it warns
// and exits 0, and the kernels fall back to WebAssembly, then TypeScript (same results, slower).
// `--sanitize DIR` instead builds a copy in DIR with AddressSanitizer and UBSan (any error aborts), for
// the kernel tests to load through TIME_MERGE_NATIVE_ADDON (.ci/sanitize-kernels.sh); a failure exits 1.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** node-gyp's script: the one npm runs scripts with, else npm's bundled copy, else a node-gyp on PATH. */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const npmCli = process.env.npm_execpath;
  const candidates = [];
  if (npmCli) candidates.push(join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  );
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package; the other candidates remain
  }
  const found = candidates.find((c) => existsSync(c));
  return found ? [process.execPath, found] : ['node-gyp'];
}

if (process.env.TIME_MERGE_SKIP_NATIVE === '1') {
  console.warn('build:native: skipped (TIME_MERGE_SKIP_NATIVE=1)');
  process.exit(0);
}
/** Headers of the running node when they are installed beside it, so the build needs no download. */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const [cmd, ...pre] = nodeGyp();
const sanitize = process.argv.indexOf('--sanitize');
if (sanitize >= 0) {
  const dir = process.argv[sanitize + 1];
  if (!dir) {
    console.error('build:native: --sanitize needs a folder');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  cpSync(join(here, 'binding.gyp'), join(dir, 'binding.gyp'));
  cpSync(join(here, 'src'), join(dir, 'src'), { recursive: true });
  // node-gyp's Makefile appends CFLAGS/LDFLAGS from the environment to binding.gyp's flags.
  const flags = '-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g';
  const env = { ...process.env, CFLAGS: flags, LDFLAGS: '-fsanitize=address,undefined' };
  const s = spawnSync(cmd, [...pre, 'rebuild', '--directory', dir, '--loglevel', 'warn', ...nodeDirArgs()], {
    stdio: 'inherit',
    env,
  });
  if (s.status !== 0) {
    console.error(`build:native: the sanitized build in ${dir} failed`);
    process.exit(1);
  }
  console.log(`build:native: ${join(dir, 'build', 'Release', 'time_merge_kernels.node')}`);
  process.exit(0);
}
const r = spawnSync(cmd, [...pre, 'rebuild', '--directory', here, '--loglevel', 'warn', ...nodeDirArgs()], {
  stdio: 'inherit',
});
if (r.status === 0) console.log(`build:native: ${join(here, 'build', 'Release', 'time_merge_kernels.node')}`);
else {
  const why = r.error ? r.error.message : `node-gyp exited with ${r.status ?? r.signal}`;
  console.warn(`build:native: the native kernels were not built (${why}); using the WebAssembly or TypeScript kernels`);
}
process.exit(0);
