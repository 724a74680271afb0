import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getStudy, STUDIES } from '../sims/index.js';
import { expandStudy } from '../src/study/expand.js';
import { DOUBLE_MERGES, fullProtocolGrid } from '../src/study/groups.js';
import { runStudy } from '../src/study/runner.js';
import { parseStudyFile } from '../src/study/study-file.js';

const parse = (text: string) => parseStudyFile(text, 'my.yaml');

describe('study files', () => {
  it('reads a grid: method groups and init x deploy products, technique grids with labels, sweeps, seed ranges', () => {
    const s = parse(`
name: mine
description: a test
stream: { T: 6, datasets: 3 }
sweep: { stepsPerTask: [10, 20], lr: [0.01] }
settings: [{ label: no-replay, replay: { pretrain: 0, current: 1, buffer: 0 } }]
methods: [finetune, '@double-merges', { init: [base, ema], deploy: [merge-all, ema] }]
techniques:
  - weighted-average
  - { name: ties, grid: { density: [0.2, 0.8] }, params: { scope: model } }
  - { name: task_arithmetic, label: ta-sum, params: { lambda: 0.3, normalize: false } }
seeds: 0-4
baselines: [zeroshot, multitask]
findings: [best-in-time]
`);
    expect(s.name).toBe('mine');
    expect(s.seeds).toEqual([0, 1, 2, 3, 4]);
    expect(s.settings!.map((x) => x.label)).toEqual(['no-replay', 'stepsPerTask10-lr0.01', 'stepsPerTask20-lr0.01']);
    expect(s.settings![2].stream).toEqual({ stepsPerTask: 20, lr: 0.01 });
    expect(s.methods).toEqual(['finetune', ...DOUBLE_MERGES, 'base+merge-all', 'base+ema', 'ema+merge-all', 'ema+ema']);
    expect(s.techniques).toEqual([
      { name: 'weighted-average' },
      { name: 'ties', label: 'ties:density:0.2', params: { scope: 'model', density: 0.2 } },
      { name: 'ties', label: 'ties:density:0.8', params: { scope: 'model', density: 0.8 } },
      { name: 'task-arithmetic', label: 'ta-sum', params: { lambda: 0.3, normalize: false } },
    ]);
    const { runs } = expandStudy(s);
    const ties = runs.find((r) => r.technique === 'ties:density:0.2')!;
    expect(ties.techniqueName).toBe('ties');
    expect(ties.runId).toBe('no-replay/double_merge_zs_all/ties:density:0.2/s0');
  });

  it.each([
    ['methods: [finetune]\nbogus: 1', /my\.yaml: unknown key "bogus"/],
    ['seeds: [0]', /my\.yaml: methods: missing/],
    ['methods: [finetune, nope]', /my\.yaml: methods\[1\]: method "nope"/],
    ['methods: ["@nope"]', /methods\[0\]: unknown method group "@nope"/],
    [
      'methods: [ema_paint]\ntechniques: [{ name: ties, params: { density: 2 } }]',
      /techniques\[0\]\.params: .*density/,
    ],
    [
      'methods: [ema_paint]\ntechniques: [{ name: ties, grid: { density: [0.5, 7] } }]',
      /techniques\[0\]\.grid: .*density/,
    ],
    ['methods: [ema_paint]\ntechniques: [nope]', /techniques\[0\]: unknown merge technique "nope"/],
    ['methods: [ema_paint]\ntechniques: [ties, ties]', /technique "ties" appears twice/],
    ['methods: [finetune]\nstream: { widht: 3 }', /stream\.widht: unknown stream setting/],
    ['methods: [finetune]\nstream: { T: 0 }', /my\.yaml: stream: synthetic stream: T must be a positive integer/],
    [
      'methods: [finetune]\nsettings: [{ label: a, stream: { datasets: 50 } }]',
      /settings\[0\] \(a\): synthetic stream: datasets \(50\) cannot exceed T/,
    ],
    [
      'methods: [finetune]\nreplay: { pretrain: -1, current: 1, buffer: 0 }',
      /replay\.pretrain: expected a number >= 0/,
    ],
    ['methods: [finetune]\nseeds: [0, 1.5]', /seeds\[1\]: expected an integer/],
    ['methods: [finetune]\nbaselines: [oracle]', /baselines\[0\]: unknown baseline "oracle"/],
    ['methods: [finetune]\nfindings: [everything]', /findings\[0\]: unknown finding "everything"/],
    ['methods: [finetune]\nquick: { seeds: [0], T: 3 }', /quick: unknown key "T"/],
    ['methods: [finetune]\nquick: { stream: { T: 0 } }', /my\.yaml \(quick\): stream/],
    ['methods: finetune: x', /not valid YAML/],
    ['- a', /a study file must be a mapping/],
  ])('rejects %j, naming the key', (text, message) => {
    expect(() => parse(text)).toThrow(message);
  });

  it('built-in studies are study files in sims/, and the full grid is a method group', async () => {
    expect(STUDIES.map((s) => s.name)).toContain('default');
    for (const s of STUDIES)
      expect(await readFile(join('sims', `${s.name}.yaml`), 'utf8')).toContain(`name: ${s.name}`);
    expect(parse('methods: ["@full-grid"]').methods).toEqual(fullProtocolGrid());
    expect(() => getStudy('nope')).toThrow(/unknown study "nope".*or give a study file/);
    expect(() => getStudy('missing.yaml')).toThrow(/missing\.yaml: cannot read study file: no such file/);
  });

  it('runs end to end from a file, with the world diagnostics in its folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'study-file-'));
    try {
      const file = join(dir, 'tiny.yaml');
      await writeFile(
        file,
        `methods: [finetune, offline_merge]
stream: { T: 4, datasets: 2, stepsPerTask: 8, pretrainSteps: 100, zeroshotTasks: 1, d: 16, k: 8, trainPerClass: 6, testPerClass: 4 }
seeds: [0, 1]
findings: [offline-vs-continual]
`,
      );
      const out = join(dir, 'out');
      const outcome = await runStudy(getStudy(file), { out, workers: 1, progress: false });
      expect(outcome.study.name).toBe('tiny');
      expect(outcome.runs).toHaveLength(4);
      expect(outcome.diagnostics.map((d) => d.seed)).toEqual([0, 1]);
      const csv = await readFile(join(out, 'diagnostics.csv'), 'utf8');
      expect(csv.split('\n')[0]).toBe(
        'setting,seed,experts,tau_ratio,cross_cosine,same_cosine,top20_energy,ties_keep,base_score,expert_score,base_a_ka,base_a_zs,expert_zs_drop,half_tau_keep,ft_forgetting,ft_zs_drop,ft_a_ka,replay_forgetting,replay_zs_drop,replay_a_ka',
      );
      expect(csv.trim().split('\n')).toHaveLength(3);
      const md = await readFile(join(out, 'findings.md'), 'utf8');
      expect(md).toContain('## World diagnostics');
      expect(md).toContain('| finding | verdict | effect (95% CI) |');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
