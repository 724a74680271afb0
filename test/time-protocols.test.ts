import { describe, expect, it } from 'vitest';
import { parseMethod, runTime, temporalWeights, type Method, type TemporalWeighting } from '../src/time/index.js';
import { RecordingEvaluator, ScriptedTrainer, stream, vec } from './time-helpers.js';

// θ0 = [0, 0]; task vectors v1 = [1, 0], v2 = [0, 2], v3 = [4, 0]; an expert is init + v_t.
const V = [
  [1, 0],
  [0, 2],
  [4, 0],
];

async function run(method: Method) {
  const trainer = new ScriptedTrainer();
  const evaluator = new RecordingEvaluator();
  const record = await runTime({
    stream: stream(V),
    trainer,
    evaluator,
    base: vec([0, 0]),
    method,
    stepsPerTask: 5,
    seed: 1,
  });
  return { record, inits: trainer.inits, deployed: evaluator.seen.slice(1), trainer };
}

function expectRows(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, t) =>
    row.forEach((x, i) => expect(x, `step ${t + 1}, value ${i}`).toBeCloseTo(expected[t][i], 6)),
  );
}

const Z3 = [
  [0, 0],
  [0, 0],
  [0, 0],
];
const LN = Math.log;

// Every expected value below is worked out by hand from the definitions in DESIGN.md section 2.
const CASES: { name: string; inits: number[][]; deployed: number[][]; merge?: Method['merge'] }[] = [
  {
    name: 'finetune',
    inits: [
      [0, 0],
      [1, 0],
      [1, 2],
    ],
    deployed: [
      [1, 0],
      [1, 2],
      [5, 2],
    ],
  },
  {
    name: 'offline_merge',
    inits: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    deployed: [
      [1, 0],
      [0.5, 1],
      [5 / 3, 2 / 3],
    ],
  },
  // e_t = ½ v_t + ½ e_{t-1}, e_0 = θ0
  {
    name: 'zs_paint',
    inits: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    deployed: [
      [0.5, 0],
      [0.25, 1],
      [2.125, 0.5],
    ],
  },
  // trains from the EMA it deploys: e1 = [1,0] -> d1 = [.5,0]; e2 = [.5,2] -> d2 = [.5,1]; e3 = [4.5,1] -> d3 = [2.5,1]
  {
    name: 'ema_paint',
    inits: [
      [0, 0],
      [0.5, 0],
      [0.5, 1],
    ],
    deployed: [
      [0.5, 0],
      [0.5, 1],
      [2.5, 1],
    ],
  },
  // paint(x) = ½ x + ½ θ0 for both init and deploy
  {
    name: 'ft_paint',
    inits: [
      [0, 0],
      [0.5, 0],
      [0.25, 1],
    ],
    deployed: [
      [0.5, 0],
      [0.25, 1],
      [2.125, 0.5],
    ],
  },
  // EMA seeded with the first expert: d1 = e1 = [1,0]; e2 = [1,2] -> d2 = [1,1]; e3 = [5,1] -> d3 = [3,1]
  {
    name: 'double_merge_unrolled_unrolled',
    inits: [
      [0, 0],
      [1, 0],
      [1, 1],
    ],
    deployed: [
      [1, 0],
      [1, 1],
      [3, 1],
    ],
  },
  // init = mean of earlier experts: e1 = [1,0]; init2 = [1,0], e2 = [1,2]; init3 = [1,1], e3 = [5,1]
  {
    name: 'merge-all+last',
    inits: [
      [0, 0],
      [1, 0],
      [1, 1],
    ],
    deployed: [
      [1, 0],
      [1, 2],
      [5, 1],
    ],
  },
  // linear weights 1..t: d2 = (e1 + 2 e2)/3 with e2 = [1,2]; d3 = (e1 + 2 e2 + 3 e3)/6 with e3 = [5, 4/3]
  {
    name: 'deployed+merge-all:linear',
    inits: [
      [0, 0],
      [1, 0],
      [1, 4 / 3],
    ],
    deployed: [
      [1, 0],
      [1, 4 / 3],
      [3, 4 / 3],
    ],
  },
  // θ0 is the oldest model in the mean: d_t = (θ0 + v_1 + .. + v_t) / (t + 1)
  {
    name: 'base+merge-all:with-base',
    inits: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    deployed: [
      [0.5, 0],
      [1 / 3, 2 / 3],
      [1.25, 0.5],
    ],
  },
  // reverse-linear: weights t..1 oldest first: d2 = (2 v1 + v2)/3; d3 = (3 v1 + 2 v2 + v3)/6
  {
    name: 'base+merge-all:reverse-linear',
    inits: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    deployed: [
      [1, 0],
      [2 / 3, 2 / 3],
      [7 / 6, 4 / 6],
    ],
  },
  // exp weights 1, 2, 4: d3 = (v1 + 2 v2 + 4 v3)/7
  {
    name: 'base+merge-all:exp',
    inits: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    deployed: [
      [1, 0],
      [1 / 3, 4 / 3],
      [17 / 7, 4 / 7],
    ],
  },
  // sqrt weights 1, √2, √3: d2 = (v1 + √2 v2)/(1 + √2); d3 = (v1 + √2 v2 + √3 v3)/(1 + √2 + √3)
  {
    name: 'base+merge-all:sqrt',
    inits: Z3,
    deployed: [
      [1, 0],
      [1 / (1 + Math.SQRT2), (2 * Math.SQRT2) / (1 + Math.SQRT2)],
      [(1 + 4 * Math.sqrt(3)) / (1 + Math.SQRT2 + Math.sqrt(3)), (2 * Math.SQRT2) / (1 + Math.SQRT2 + Math.sqrt(3))],
    ],
  },
  // quadratic weights 1, 4, 9: d2 = (v1 + 4 v2)/5; d3 = (v1 + 4 v2 + 9 v3)/14 = [37, 8]/14
  {
    name: 'base+merge-all:quadratic',
    inits: Z3,
    deployed: [
      [1, 0],
      [1 / 5, 8 / 5],
      [37 / 14, 8 / 14],
    ],
  },
  // cubic weights 1, 8, 27: d2 = (v1 + 8 v2)/9; d3 = (v1 + 8 v2 + 27 v3)/36 = [109, 16]/36
  {
    name: 'base+merge-all:cubic',
    inits: Z3,
    deployed: [
      [1, 0],
      [1 / 9, 16 / 9],
      [109 / 36, 16 / 36],
    ],
  },
  // fifth weights 1, 32, 243: d2 = (v1 + 32 v2)/33; d3 = [1 + 972, 64]/276
  {
    name: 'base+merge-all:fifth',
    inits: Z3,
    deployed: [
      [1, 0],
      [1 / 33, 64 / 33],
      [973 / 276, 64 / 276],
    ],
  },
  // tenth weights 1, 1024, 59049: d2 = (v1 + 1024 v2)/1025; d3 = [1 + 4·59049, 2048]/60074
  {
    name: 'base+merge-all:tenth',
    inits: Z3,
    deployed: [
      [1, 0],
      [1 / 1025, 2048 / 1025],
      [236197 / 60074, 2048 / 60074],
    ],
  },
  // log weights ln 2, ln 3, ln 4 (sum ln 24): d2 = (ln2 v1 + ln3 v2)/ln 6; d3 = [ln2 + 4 ln4, 2 ln3]/ln 24 = [9 ln2, 2 ln3]/ln 24
  {
    name: 'base+merge-all:log',
    inits: Z3,
    deployed: [
      [1, 0],
      [LN(2) / LN(6), (2 * LN(3)) / LN(6)],
      [(9 * LN(2)) / LN(24), (2 * LN(3)) / LN(24)],
    ],
  },
  // reverse-quadratic, oldest first: t = 2 weights 4, 1; t = 3 weights 9, 4, 1: d3 = (9 v1 + 4 v2 + v3)/14
  {
    name: 'base+merge-all:reverse-quadratic',
    inits: Z3,
    deployed: [
      [1, 0],
      [4 / 5, 2 / 5],
      [13 / 14, 8 / 14],
    ],
  },
  // reverse-log at t = 3: ln 4, ln 3, ln 2: d3 = [ln4 + 4 ln2, 2 ln3]/ln 24 = [6 ln2, 2 ln3]/ln 24
  {
    name: 'base+merge-all:reverse-log',
    inits: Z3,
    deployed: [
      [1, 0],
      [LN(3) / LN(6), (2 * LN(2)) / LN(6)],
      [(6 * LN(2)) / LN(24), (2 * LN(3)) / LN(24)],
    ],
  },
  // ema β = 0.25: d1 = ¼ v1; d2 = ¼ v2 + ¾ d1; d3 = ¼ v3 + ¾ d2
  {
    name: 'base+ema:0.25',
    inits: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    deployed: [
      [0.25, 0],
      [0.1875, 0.5],
      [1.140625, 0.375],
    ],
  },
  // OPCM over experts trained from θ0 (a 1-D tensor: no projection): d_t = M_t · mean‖v‖/‖M_t‖, M_t = Σ v
  {
    name: 'base+opcm',
    inits: Z3,
    deployed: [
      [1, 0],
      [1.5 / Math.sqrt(5), 3 / Math.sqrt(5)],
      [((7 / 3) * 5) / Math.sqrt(29), ((7 / 3) * 2) / Math.sqrt(29)],
    ],
  },
  // DoP on a tensor that is no linear weight: the mean of the running merge and the new expert
  {
    name: 'base+dop',
    inits: Z3,
    deployed: [
      [1, 0],
      [0.5, 1],
      [2.25, 0.5],
    ],
  },
  // paint α = 0.75 deploy over continual training: d_t = ¾ e_t
  {
    name: 'last+paint:0.75',
    inits: [
      [0, 0],
      [1, 0],
      [1, 2],
    ],
    deployed: [
      [0.75, 0],
      [0.75, 1.5],
      [3.75, 1.5],
    ],
  },
  // task arithmetic λ = 2 over uniform merge-all: d_t = 2 · mean(v_1..v_t)
  {
    name: 'offline_merge',
    merge: { technique: 'task-arithmetic', params: { lambda: 2 } },
    inits: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    deployed: [
      [2, 0],
      [1, 2],
      [10 / 3, 4 / 3],
    ],
  },
  // task arithmetic λ = 2 inside EMA: e_t = θ0 + 2(β τ_new + (1-β) τ_prev) = τ_new + τ_prev (β = ½, θ0 = 0)
  {
    name: 'zs_paint',
    merge: { technique: 'task-arithmetic', params: { lambda: 2 } },
    inits: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    deployed: [
      [1, 0],
      [1, 2],
      [5, 2],
    ],
  },
];

describe('deployed weights of every protocol on a scripted stream (hand-computed)', () => {
  for (const c of CASES) {
    it(`${c.name}${c.merge ? ` with ${c.merge.technique}` : ''}`, async () => {
      const { inits, deployed } = await run(parseMethod(c.name, c.merge));
      expectRows(inits, c.inits);
      expectRows(deployed, c.deployed);
    });
  }

  it('double_merge_zs_ft is base init with last deploy, i.e. the experts themselves', async () => {
    const { deployed } = await run(parseMethod('double_merge_zs_ft'));
    expectRows(deployed, V);
  });
});

describe('what the trainer is asked', () => {
  it('passes one task, the earlier tasks, the replay mix, the budget and a per-step seed', async () => {
    const trainer = new ScriptedTrainer();
    const replay = { pretrain: 0.33, current: 0.34, buffer: 0.33 };
    await runTime({
      stream: stream(V),
      trainer,
      evaluator: new RecordingEvaluator(),
      base: vec([0, 0]),
      method: parseMethod('finetune'),
      stepsPerTask: 7,
      seed: 3,
      replay,
    });
    expect(trainer.requests.map((r) => r.tasks.map((t) => t.id))).toEqual([['task-1'], ['task-2'], ['task-3']]);
    expect(trainer.requests.map((r) => r.previous.map((t) => t.id))).toEqual([[], ['task-1'], ['task-1', 'task-2']]);
    for (const r of trainer.requests) {
      expect(r.replay).toEqual(replay);
      expect(r.steps).toBe(7);
    }
    const seeds = trainer.requests.map((r) => r.seed);
    expect(new Set(seeds).size).toBe(3);
  });
});

describe('temporal weights over four experts, oldest first (hand-computed, normalised)', () => {
  const r2 = Math.SQRT2;
  const r3 = Math.sqrt(3);
  const CASES: [TemporalWeighting, number[], number][] = [
    ['uniform', [1, 1, 1, 1], 4],
    ['linear', [1, 2, 3, 4], 10],
    ['sqrt', [1, r2, r3, 2], 3 + r2 + r3],
    ['quadratic', [1, 4, 9, 16], 30],
    ['cubic', [1, 8, 27, 64], 100],
    ['fifth', [1, 32, 243, 1024], 1300],
    ['tenth', [1, 1024, 59049, 1048576], 1108650],
    ['exp', [1, 2, 4, 8], 15],
    ['log', [Math.log(2), Math.log(3), Math.log(4), Math.log(5)], Math.log(120)],
    ['reverse-sqrt', [2, r3, r2, 1], 3 + r2 + r3],
    ['reverse-cubic', [64, 27, 8, 1], 100],
    ['reverse-exp', [8, 4, 2, 1], 15],
    ['reverse-log', [Math.log(5), Math.log(4), Math.log(3), Math.log(2)], Math.log(120)],
  ];
  for (const [kind, raw, sum] of CASES) {
    it(`${kind}: [${raw.map((x) => (Number.isInteger(x) ? x : x.toFixed(3))).join(', ')}] / ${Number.isInteger(sum) ? sum : sum.toFixed(3)}`, () => {
      const w = temporalWeights(kind, 4);
      expect(w).toHaveLength(4);
      w.forEach((x, i) => expect(x, `expert ${i + 1}`).toBeCloseTo(raw[i] / sum, 14));
    });
  }
});
