/**
 * Every study config is checked in full before its first run: a typo in a clip or run config is one
 * line naming the file and the key, with a did-you-mean, exit status 2, and nothing run or written.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunDemo } from '../src/cli/run-demo.js';
import { writeClipDemo } from '../src/clip/demo.js';
import { readClipStudy } from '../src/clip/study.js';
import { loadRunConfig } from '../src/time/run-config.js';
import { timeMerge } from './doc-commands.js';

let dir: string;
let clipYaml: string;
let runYaml: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tm-validate-'));
  clipYaml = readFileSync(await writeClipDemo(join(dir, 'clip')), 'utf8');
  runYaml = readFileSync((await writeRunDemo(join(dir, 'run'), 'node')).config, 'utf8');
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The demo's config with one line replaced, written beside the demo's own. */
function variant(kind: 'clip' | 'run', name: string, from: RegExp, to: string): string {
  const text = kind === 'clip' ? clipYaml : runYaml;
  expect(text).toMatch(from);
  const path = join(dir, kind, name);
  writeFileSync(path, text.replace(from, to));
  return path;
}

describe('a clip config', () => {
  it('with a misspelt technique stops before the zero-shot baseline, naming file and key, exit 2', async () => {
    const typo = clipYaml
      .replace(/^technique: .*$/m, 'technique: weighted-averge')
      .replace(/^out: .*$/m, 'out: typo-out');
    const file = join(dir, 'clip', 'typo.yaml');
    writeFileSync(file, typo);
    const failed = await timeMerge(['clip', file], dir).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^time-merge: ${file}: technique: unknown merge technique "weighted-averge" \\(did you mean "weighted-average"\\?\\)`,
        ),
      ),
    ]);
    expect(failed?.stdout).toBe('');
    expect(existsSync(join(dir, 'clip', 'typo-out'))).toBe(false);
  }, 60_000);

  it('with T: per-dataset, merge-all over more models than the technique takes stops before any run', async () => {
    const file = variant('clip', 'slerp.yaml', /^technique: .*$/m, 'technique: slerp');
    const failed = await timeMerge(['clip', file], dir).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toBe(
      `time-merge: ${file}: methods: offline_merge: slerp merges at most 2 models; merge-all needs 3\n`,
    );
    expect(failed?.stdout).not.toMatch(/baseline zeroshot|step 0/);
  }, 60_000);

  it.each([
    [/^methods: \[finetune/m, 'methods: [fintune', 'method "fintune" (did you mean "finetune"?)'],
    [/^eval: .*$/m, 'eval: { maxSample: 6 }', 'eval: unknown key "maxSample" (did you mean "maxSamples"?)'],
    [
      /^technique: .*$/m,
      'technique: ties\ntechniqueParams: { densty: 0.2 }',
      'techniqueParams: ties: unknown parameter "densty" (did you mean "density"?)',
    ],
    [
      /^T: .*$/m,
      'T: 3\nmethod: offline_merge\nfoo: [',
      'not valid YAML/JSON (Flow sequence in block collection must be sufficiently indented and end with a ] at line 13, column 1)',
    ],
    [/^baselines: .*$/m, 'baselines: [zershot]', 'baselines: unknown baseline "zershot" (did you mean "zeroshot"?)'],
    [/^steps: /m, 'setps: ', 'unknown setting(s) setps (did you mean "steps"?)'],
  ])('%s -> %s is named before anything runs', (from, to, message) => {
    const file = variant('clip', 'bad.yaml', from, to);
    expect(() => readClipStudy(file)).toThrow(`${file}: ${message}`);
  });
});

describe('a run config', () => {
  it('names the key of a misspelt technique, its parameters or a method', async () => {
    const cases: [RegExp, string, string][] = [
      [
        /^technique: .*$/m,
        'technique: weighted-averge',
        'technique: unknown merge technique "weighted-averge" (did you mean',
      ],
      [
        /^technique: .*$/m,
        'technique: ties\nparameters: { densty: 0.2 }',
        'parameters: ties: unknown parameter "densty"',
      ],
      [/^methods: \[finetune/m, 'methods: [fintune', 'method "fintune" (did you mean "finetune"?)'],
      [
        /^technique: .*$/m,
        'technique: slerp',
        'methods: offline_merge: slerp merges at most 2 models; merge-all needs 3',
      ],
    ];
    for (const [from, to, message] of cases) {
      const file = variant('run', 'bad.yaml', from, to);
      await expect(loadRunConfig(file)).rejects.toThrow(`${file}: ${message}`);
    }
  });
});
