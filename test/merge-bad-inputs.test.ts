import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runMergeConfig } from '../src/cli/commands/merge.js';
import { ParamSet } from '../src/params/paramset.js';
import { openSafetensors, writeSafetensors } from '../src/params/safetensors/index.js';
import { tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-merge-bad-');
afterAll(() => tmp.cleanup());
const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'time-merge.js');

const ps = (entries: Record<string, number[]>) =>
  ParamSet.fromEntries(Object.entries(entries).map(([k, v]) => [k, { shape: [v.length], data: new Float32Array(v) }]));

/** A folder with base.safetensors, a.safetensors and b.safetensors holding these tensors, and a config. */
async function folder(
  name: string,
  tensors: { base: Record<string, number[]>; a: Record<string, number[]>; b: Record<string, number[]> },
  config: string,
): Promise<string> {
  const dir = tmp.file(name);
  mkdirSync(dir);
  for (const [file, t] of Object.entries(tensors))
    await writeSafetensors(join(tmp.file(name), `${file}.safetensors`), ps(t));
  writeFileSync(join(dir, 'merge.yaml'), config);
  return dir;
}

const TIES = (extra = '') => `merge_method: ties
base_model: base.safetensors
models: [a.safetensors, b.safetensors]
parameters: { density: 0.5 }
${extra}output: out.safetensors
`;

const tmpFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('non-finite inputs', () => {
  it('a NaN that TIES would trim away is refused, naming the file and tensor, whatever the seed', async () => {
    // |NaN| sorts below every magnitude, so trimming would drop it and the merge would look clean.
    const dir = await folder(
      'nan',
      { base: { w: [0, 0, 0, 0] }, a: { w: [5, 6, 7, NaN] }, b: { w: [1, 2, 3, 4] } },
      TIES(),
    );
    for (const seed of [0, 1, 2]) {
      await expect(
        runMergeConfig(join(dir, 'merge.yaml'), { output: join(dir, `out-${seed}.safetensors`) }),
      ).rejects.toMatchObject({
        code: 'SAFETENSORS',
        message: `${join(dir, 'a.safetensors')}: tensor "w" holds NaN at index 3 (F32 [4]); inputs must be finite`,
      });
    }
    expect(readdirSync(dir).sort()).toEqual(['a.safetensors', 'b.safetensors', 'base.safetensors', 'merge.yaml']);
  });

  it('an Infinity in the base is refused before any technique sees it', async () => {
    const dir = await folder(
      'inf',
      { base: { x: [1], w: [0, -Infinity] }, a: { x: [1], w: [1, 1] }, b: { x: [1], w: [1, 1] } },
      TIES(),
    );
    await expect(runMergeConfig(join(dir, 'merge.yaml'))).rejects.toThrow(
      `${join(dir, 'base.safetensors')}: tensor "w" holds -Infinity at index 1`,
    );
  });
  it("a base that the technique never reads is not scanned: a weighted average over a NaN base is the experts' mean", async () => {
    const config = TIES().replace('ties', 'weighted-average').replace('parameters: { density: 0.5 }\n', '');
    const dir = await folder(
      'nan-unread-base',
      { base: { w: [NaN, 0, Infinity] }, a: { w: [1, 2, 3] }, b: { w: [3, 6, -1] } },
      config,
    );
    await runMergeConfig(join(dir, 'merge.yaml'));
    const out = await openSafetensors(join(dir, 'out.safetensors'));
    expect([...(await out.read('w'))]).toEqual([2, 4, 1]);
    await out.close();
  });

  it('with LiNeS, which rescales from θ0, a weighted average reads the base: a NaN there is refused, naming it', async () => {
    const config = TIES()
      .replace('ties', 'weighted-average')
      .replace('parameters: { density: 0.5 }', 'parameters: { lines: { alpha: 0.5, beta: 0.5, layers: 1 } }');
    const dir = await folder('nan-lines-base', { base: { w: [0, NaN] }, a: { w: [1, 2] }, b: { w: [3, 6] } }, config);
    await expect(runMergeConfig(join(dir, 'merge.yaml'))).rejects.toThrow(
      `${join(dir, 'base.safetensors')}: tensor "w" holds NaN at index 1`,
    );
  });
});

describe('narrowing to f16', () => {
  it('refuses values that overflow f16, naming the tensor, the largest value and by how much; no file is left', async () => {
    const config = TIES('dtype: f16\n')
      .replace('ties', 'weighted-average')
      .replace('parameters: { density: 0.5 }\n', '');
    const dir = await folder(
      'f16',
      { base: { ok: [1], w: [0, 0, 0] }, a: { ok: [1], w: [1e5, 70000, 1] }, b: { ok: [1], w: [2e5, 80000, 1] } },
      config,
    );
    await expect(runMergeConfig(join(dir, 'merge.yaml'))).rejects.toMatchObject({
      code: 'MERGE',
      message: `${join(dir, 'out.safetensors')}: tensor "w": 2 value(s) overflow F16 (largest finite 65504); the largest, 150000 at index 0, is 2.29x that. Write dtype f32 or bf16, or scale the model`,
    });
    expect(existsSync(join(dir, 'out.safetensors'))).toBe(false);
    expect(tmpFiles(dir)).toEqual([]);
    // 65504 itself, and values that round down to it, are written.
    const fine = await folder(
      'f16-edge',
      { base: { w: [0, 0] }, a: { w: [65504, 65519] }, b: { w: [65504, 65519] } },
      config,
    );
    await runMergeConfig(join(fine, 'merge.yaml'));
    const out = await openSafetensors(join(fine, 'out.safetensors'));
    expect(Array.from(await out.read('w'))).toEqual([65504, 65504]);
    await out.close();
  });
});

describe('the output is never an input', () => {
  it('refuses an output that is a shard behind the base index, and leaves the shard as it was', async () => {
    const dir = await folder('shards', { base: { w: [1, 2] }, a: { w: [3, 4] }, b: { w: [5, 6] } }, TIES());
    await writeSafetensors(join(dir, 'base-00001-of-00002.safetensors'), ps({ w: [1, 2] }));
    await writeSafetensors(join(dir, 'base-00002-of-00002.safetensors'), ps({ v: [7] }));
    writeFileSync(
      join(dir, 'base.safetensors.index.json'),
      JSON.stringify({ weight_map: { w: 'base-00001-of-00002.safetensors', v: 'base-00002-of-00002.safetensors' } }),
    );
    await writeSafetensors(join(dir, 'a2.safetensors'), ps({ w: [3, 4], v: [8] }));
    await writeSafetensors(join(dir, 'b2.safetensors'), ps({ w: [5, 6], v: [9] }));
    const shard = join(dir, 'base-00002-of-00002.safetensors');
    const before = readFileSync(shard);
    writeFileSync(
      join(dir, 'sharded.yaml'),
      'merge_method: ties\nbase_model: base.safetensors.index.json\nmodels: [a2.safetensors, b2.safetensors]\noutput: base-00002-of-00002.safetensors\n',
    );
    await expect(runMergeConfig(join(dir, 'sharded.yaml'))).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining(
        `output ${shard} is also an input (${shard}, a shard of ${join(dir, 'base.safetensors.index.json')})`,
      ),
    });
    expect(readFileSync(shard)).toEqual(before);
  });

  it('refuses an output that is an input under another name (a symlink)', async () => {
    const dir = await folder('link', { base: { w: [1, 2] }, a: { w: [3, 4] }, b: { w: [5, 6] } }, TIES());
    symlinkSync(join(dir, 'b.safetensors'), join(dir, 'alias.safetensors'));
    await expect(runMergeConfig(join(dir, 'merge.yaml'), { output: join(dir, 'alias.safetensors') })).rejects.toThrow(
      /is also an input \(.*b\.safetensors\)/,
    );
  });
});

describe('interrupted merges', () => {
  it('removes temporaries of killed runs on the next run and says so, keeping those of live processes', async () => {
    const dir = await folder('stale', { base: { w: [1, 2] }, a: { w: [3, 4] }, b: { w: [5, 6] } }, TIES());
    // A pid that surely does not run: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = join(dir, `.out.safetensors.${dead}.1.tmp`);
    const live = join(dir, `.out.safetensors.${process.ppid}.1.tmp`);
    writeFileSync(stale, 'partial');
    writeFileSync(live, 'partial');
    const { stderr } = await run(process.execPath, [BIN, 'merge', join(dir, 'merge.yaml'), '--quiet']);
    expect(stderr).toContain(`time-merge: removed ${stale}, a temporary left by a merge that was killed`);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(join(dir, 'out.safetensors'))).toBe(true);
  });

  it('SIGTERM and SIGINT during a merge remove its partial temporary, and the process exits with 128 + the signal', async () => {
    // Large enough that the merge is still writing when the temporary appears.
    const n = 4 << 20;
    const big = (v: number) => {
      const p = new ParamSet();
      for (let t = 0; t < 8; t++) p.set(`t${t}`, [n], new Float32Array(n).fill(v + t));
      return p;
    };
    const dir = tmp.file('signal');
    mkdirSync(dir);
    for (const [name, v] of [
      ['base', 0],
      ['a', 1],
      ['b', 2],
    ] as const)
      await writeSafetensors(join(dir, `${name}.safetensors`), big(v));
    writeFileSync(join(dir, 'merge.yaml'), TIES());
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(process.execPath, [BIN, 'merge', join(dir, 'merge.yaml'), '--quiet'], { stdio: 'ignore' });
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
        child.on('exit', (code, sig) => res({ code, signal: sig })),
      );
      let seen = false;
      for (let i = 0; i < 4000 && !seen; i++) {
        seen = tmpFiles(dir).length > 0;
        if (!seen) await new Promise((r) => setTimeout(r, 2));
      }
      expect(seen).toBe(true);
      child.kill(signal);
      const exit = await ended;
      expect(exit).toEqual({ code: signal === 'SIGINT' ? 130 : 143, signal: null });
      expect(tmpFiles(dir)).toEqual([]);
      expect(existsSync(join(dir, 'out.safetensors'))).toBe(false);
    }
    expect(statSync(join(dir, 'base.safetensors')).size).toBeGreaterThan(8 * 4 * n);
  }, 60_000);
});
