import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
// Built beside the checkout's own dist/ (which other processes may be running) but inside the checkout,
// where the compiled files find node_modules/.
const OUT = join(ROOT, 'test-artifacts', `dist-${process.pid}`);
const MAIN = join(OUT, 'cli', 'main.js');

/** The compiled sources (paths relative to the compiled tree) that the bundle's output files hold. */
function bundledSources(outputs: readonly string[]): string[] {
  const meta = JSON.parse(readFileSync(join(OUT, 'cli', 'meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  return outputs.flatMap((o) => Object.keys(meta.outputs[o]?.inputs ?? {}));
}

/**
 * A folder with a module hook that appends the URL of every module a process imports to `log`
 * (run the process with `--import register`).
 */
async function moduleLogger(): Promise<{ dir: string; log: string; register: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tm-compiled-'));
  const log = join(dir, 'modules.log');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
const r = await next(specifier, context);
appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
return r;
}\n`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`,
  );
  return { dir, log, register: join(dir, 'register.mjs') };
}

describe('the compiled CLI (src/cli/build.mjs)', () => {
  beforeAll(async () => {
    await run(process.execPath, [join(ROOT, 'src', 'cli', 'build.mjs'), '--out', OUT], { cwd: ROOT });
  }, 120_000);
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it('carries the package version and the files the code reads beside itself', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(JSON.parse(readFileSync(join(OUT, 'package.json'), 'utf8'))).toMatchObject({ version, type: 'module' });
    expect(await readdir(join(OUT, 'src', 'clip'))).toContain('fomo-datasets.json');
    // The torch engine's Python package, where the compiled engine module looks for it.
    const { TORCH_ENGINE_DIR } = (await import(pathToFileURL(join(OUT, 'src', 'clip', 'engine.js')).href)) as {
      TORCH_ENGINE_DIR: string;
    };
    expect(await readdir(join(TORCH_ENGINE_DIR, 'time_merge_torch'))).toContain('worker.py');
  });

  it('merges from a handful of bundle files: no module of node_modules is loaded one by one', async () => {
    const { dir, log, register } = await moduleLogger();
    await run(process.execPath, [MAIN, 'merge', '--demo', join(dir, 'demo')], { cwd: ROOT });
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        register,
        MAIN,
        'merge',
        join(dir, 'demo', 'merge.yaml'),
        '--output',
        join(dir, 'again.safetensors'),
      ],
      { cwd: ROOT },
    );
    expect(stdout).toMatch(/merged 2 model\(s\) with task-arithmetic/);
    const loaded = readFileSync(log, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith('file:'));
    expect(loaded.filter((u) => u.includes('/node_modules/'))).toEqual([]);
    const sources = bundledSources(
      loaded.map((u) => relative(OUT, fileURLToPath(u)).split(sep).join('/')).filter((p) => p.startsWith('cli/')),
    );
    // The config was YAML: the yaml package came from a bundle chunk.
    expect(sources.some((s) => s.includes('node_modules/yaml/'))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers --help without loading TensorFlow.js, vega or the study code', async () => {
    // A resolve hook (in the loader thread) lists every module the process imports.
    const { dir, log, register } = await moduleLogger();
    const { stdout } = await run(process.execPath, ['--import', register, MAIN, '--help'], {
      cwd: ROOT,
    });
    expect(stdout).toContain('Usage: time-merge');
    for (const cmd of ['start', 'merge', 'techniques', 'sim', 'clip', 'report', 'run'])
      expect(stdout).toContain(`  ${cmd}`);
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(loaded.some((u) => u.endsWith('/cli/main.js'))).toBe(true);
    // Bundled: a few output files, none from node_modules; what they hold is in the bundle's metafile.
    const outputs = loaded.filter((u) => u.startsWith(pathToFileURL(join(OUT, 'cli')).href));
    expect(loaded.filter((u) => u.startsWith('file:') && !outputs.includes(u))).toEqual([]);
    const sources = bundledSources(outputs.map((u) => relative(OUT, fileURLToPath(u)).split(sep).join('/')));
    expect(sources).toContain('src/cli/main.js');
    expect(
      sources.filter((s) => /@tensorflow|\/vega|resvg|sharp|^src\/clip\/|^src\/report\/|^src\/study\/runner/.test(s)),
    ).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('merges the demo and runs a study on worker threads from the compiled tree', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tm-compiled-'));
    const merged = await run(process.execPath, [MAIN, 'merge', '--demo', join(dir, 'demo')], { cwd: ROOT });
    expect(merged.stdout).toMatch(/merged 2 model\(s\) with task-arithmetic: 3 tensors, 24 parameters/);
    const file = readFileSync(join(dir, 'demo', 'merged.safetensors'));
    const header = JSON.parse(file.subarray(8, 8 + Number(file.readBigUInt64LE(0))).toString('utf8')) as {
      __metadata__: Record<string, string>;
    };
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(header.__metadata__.time_merge_version).toBe(version);
    const out = join(dir, 'sim');
    await mkdir(out);
    const sim = await run(
      process.execPath,
      [MAIN, 'sim', 'offline-vs-continual', '--quick', '--workers', '2', '--no-report', '--out', out],
      { cwd: ROOT },
    );
    expect(sim.stdout).toMatch(/on 2 worker\(s\)/);
    expect(readFileSync(join(out, 'runs.csv'), 'utf8').split('\n').length).toBeGreaterThan(2);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
