import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kernels from '../src/params/kernels.js';
import { tensorRng } from '../src/merge/engine.js';
import { dropTaskVector, dropTaskVectorCounter } from '../src/merge/dare.js';
import { randomPick, randomPickByKey } from '../src/merge/random-selection.js';
import { counterKey } from '../src/params/counter-rng.js';
import { getTechnique, listTechniques } from '../src/merge/registry.js';
import { uniformStream } from '../src/merge/uniform.js';
import { TimeMergeError } from '../src/params/errors.js';
import { ParamSet } from '../src/params/paramset.js';

/** Merges one tensor directly with a technique (no engine), base/experts as plain arrays. */
function run(
  technique: string,
  params: Record<string, unknown>,
  base: number[],
  experts: number[][],
  opts: { weights?: number[]; shape?: number[]; rng?: () => number } = {},
): number[] {
  const t = getTechnique(technique);
  const p = t.parse(params);
  const out = t.merge(
    {
      name: 'w',
      shape: opts.shape ?? [base.length],
      base: Float32Array.from(base),
      experts: experts.map((e) => Float32Array.from(e)),
      weights: opts.weights ?? experts.map(() => 1),
      rng: opts.rng ?? tensorRng(0, 'w'),
    },
    p,
  );
  return [...out];
}

/** An rng that replays fixed draws (so DARE and random-selection cases can be derived by hand). */
function draws(...us: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= us.length) throw new Error('test rng exhausted');
    return us[i++];
  };
}

const close = (a: number[], b: number[], digits = 5) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i], digits));
};

function configError(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TimeMergeError);
    expect((e as TimeMergeError).code).toBe(code);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}

describe('registry', () => {
  it('registers every technique of src/merge once, kebab-case, with toolkit aliases resolving to the same entry', async () => {
    const registered = listTechniques();
    const names = registered.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    // Every exported technique object of src/merge is in the registry (a new file is found without a list).
    const dir = new URL('../src/merge/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const mod = (await import(new URL(file, dir).href)) as Record<string, unknown>;
      for (const [key, v] of Object.entries(mod)) {
        const isTechnique = typeof v === 'object' && v !== null && 'merge' in v && 'parse' in v && 'facts' in v;
        if (isTechnique) expect(registered, `${file}: ${key}`).toContain(v);
      }
    }
    expect(getTechnique('linear')).toBe(getTechnique('weighted-average'));
    expect(getTechnique('dare_ties')).toBe(getTechnique('dare-ties'));
    expect(getTechnique('model_stock')).toBe(getTechnique('model-stock'));
    expect(getTechnique('breadcrumbs_ties')).toBe(getTechnique('breadcrumbs-ties'));
    expect(getTechnique('random')).toBe(getTechnique('random-selection'));
    configError(() => getTechnique('fisher'), 'CONFIG', /unknown merge technique "fisher"/);
  });
  it('states its facts: kernels that exist, per-model parameters it has, law settings it accepts', () => {
    for (const t of listTechniques()) {
      for (const k of t.facts.kernels)
        expect(typeof (kernels as Record<string, unknown>)[k], `${t.name}: kernel ${k}`).toBe('function');
      for (const p of t.facts.perModel)
        expect(
          t.params.map((d) => d.name),
          `${t.name}: per-model ${p}`,
        ).toContain(p);
      const laws = t.facts.laws;
      for (const params of [
        ...(laws.idempotent ?? []),
        ...(laws.symmetric ?? []),
        ...(laws.weightScale ?? []).map((w) => w.params),
      ]) {
        expect(() => t.parse({ ...params }), `${t.name} ${JSON.stringify(params)}`).not.toThrow();
      }
      expect(t.facts.toolkits.length).toBeGreaterThan(5);
    }
  });
  it('documents a default for every parameter and accepts its own defaults', () => {
    for (const t of listTechniques()) {
      for (const p of t.params) expect(p.description.length).toBeGreaterThan(10);
      expect(() => t.parse({})).not.toThrow();
    }
  });
});

describe('weighted-average', () => {
  it('normalises weights: [1,3] -> [0.25,0.75]; 0.25·[1,2] + 0.75·[3,6] = [2.5,5]', () => {
    expect(
      run(
        'weighted-average',
        {},
        [0, 0],
        [
          [1, 2],
          [3, 6],
        ],
        { weights: [1, 3] },
      ),
    ).toEqual([2.5, 5]);
  });
  it('without normalisation is the weighted sum: 1·[1,2] + 3·[3,6] = [10,20]', () => {
    expect(
      run(
        'weighted-average',
        { normalize: false },
        [0, 0],
        [
          [1, 2],
          [3, 6],
        ],
        { weights: [1, 3] },
      ),
    ).toEqual([10, 20]);
  });
  it('weights summing to zero are a MERGE error', () => {
    configError(() => run('weighted-average', {}, [0], [[1], [2]], { weights: [1, -1] }), 'MERGE', /sum to zero/);
  });
});

describe('task-arithmetic', () => {
  it('θ0 + λΣτ: base [1,1], τ = [1,-1] and [0,2], λ = 0.5 -> [1.5,1.5]', () => {
    expect(
      run(
        'task-arithmetic',
        { lambda: 0.5 },
        [1, 1],
        [
          [2, 0],
          [1, 3],
        ],
      ),
    ).toEqual([1.5, 1.5]);
  });
  it('λ = 0 returns the base', () => {
    expect(run('task-arithmetic', { lambda: 0 }, [1, -2], [[5, 5]])).toEqual([1, -2]);
  });
  it('weighted: false ignores the weights: base [1,1], τ = [1,-1] and [0,2], weights 0.25/0.75, λ 0.5 -> [1.5,1.5]', () => {
    const experts = [
      [2, 0],
      [1, 3],
    ];
    const opts = { weights: [0.25, 0.75] };
    expect(run('task-arithmetic', { lambda: 0.5, weighted: false }, [1, 1], experts, opts)).toEqual([1.5, 1.5]);
    // Weighted: 1 + 0.5·(0.25·1 + 0.75·0) = 1.125 and 1 + 0.5·(0.25·-1 + 0.75·2) = 1.625.
    expect(run('task-arithmetic', { lambda: 0.5 }, [1, 1], experts, opts)).toEqual([1.125, 1.625]);
  });
  it('weighted: false in the incremental form equals the batch form', () => {
    const technique = getTechnique('task-arithmetic');
    const params = technique.parse({ lambda: 0.1, weighted: false });
    const base = new ParamSet().set('w', [2], Float32Array.from([1, 1]));
    const acc = technique.incremental!(params, base);
    acc.add(new ParamSet().set('w', [2], Float32Array.from([2, 0])), 0.9);
    acc.add(new ParamSet().set('w', [2], Float32Array.from([1, 3])), 0.1);
    const batch = run(
      'task-arithmetic',
      { lambda: 0.1, weighted: false },
      [1, 1],
      [
        [2, 0],
        [1, 3],
      ],
      { weights: [0.9, 0.1] },
    );
    expect([...acc.result().data('w')]).toEqual(batch);
  });
});

describe('ties', () => {
  // τ1 = [3,-1,2,-4], τ2 = [-2,1,1,5], τ3 = [1,2,-3,-1]; density 0.75 keeps k = 3 per tensor:
  //   τ1 -> [3,0,2,-4]; τ2 -> [-2,1,0,5] (|1| tie: index 1 before index 2); τ3 -> [1,2,-3,0] (index 0 before 3)
  // sum election: [3-2+1, 1+2, 2-3, -4+5] = [2,3,-1,1] -> signs [+,+,-,+]
  // mean of agreeing: [(3+1)/2, (1+2)/2, -3, 5] = [2,1.5,-3,5]; sum: [4,3,-3,5]; max: [3,2,-3,5]
  const taus = [
    [3, -1, 2, -4],
    [-2, 1, 1, 5],
    [1, 2, -3, -1],
  ];
  const zero = [0, 0, 0, 0];
  it('trims, elects by sum and takes the disjoint mean / sum / max', () => {
    expect(run('ties', { density: 0.75 }, zero, taus)).toEqual([2, 1.5, -3, 5]);
    expect(run('ties', { density: 0.75, disjoint: 'sum' }, zero, taus)).toEqual([4, 3, -3, 5]);
    expect(run('ties', { density: 0.75, disjoint: 'max' }, zero, taus)).toEqual([3, 2, -3, 5]);
  });
  it('adds λ·result to the base: 1 + 0.5·[2,1.5,-3,5] = [2,1.75,-0.5,3.5]', () => {
    const base = [1, 1, 1, 1];
    const experts = taus.map((t) => t.map((v) => v + 1));
    expect(run('ties', { density: 0.75, lambda: 0.5 }, base, experts)).toEqual([2, 1.75, -0.5, 3.5]);
  });
  it('count election with each tie rule', () => {
    // signs of trimmed values: el0 [+,-,+] -> +; el1 [0,+,+] -> +; el2 [+,0,-] -> tie; el3 [-,+,0] -> tie
    // positive: el2 keeps +2, el3 keeps +5 -> [2,1.5,2,5]; negative: -3 and -4; skip: 0 and 0
    // majority: elected non-tied signs sum to +2 -> +, as positive; minority -> as negative
    const c = (tieRule: string) => run('ties', { density: 0.75, election: 'count', tieRule }, zero, taus);
    expect(c('positive')).toEqual([2, 1.5, 2, 5]);
    expect(c('negative')).toEqual([2, 1.5, -3, -4]);
    expect(c('skip')).toEqual([2, 1.5, 0, 0]);
    expect(c('majority')).toEqual([2, 1.5, 2, 5]);
    expect(c('minority')).toEqual([2, 1.5, -3, -4]);
  });
  it('weights before the election (mergekit) versus after it (FusionBench, fomo_in_flux)', () => {
    // weights [1,3,1]. before: votes [3-6+1, 3+2, 2-3, -4+15] = [-2,5,-1,11] -> [-,+,-,+]
    //   el0: only τ2 agrees: 3·(-2)/3 = -2; el1: (3·1 + 1·2)/(3+1) = 1.25; el2: -3; el3: 5
    // after: unweighted votes [2,3,-1,1] -> [+,+,-,+]; el0: (1·3 + 1·1)/2 = 2; el1 1.25; el2 -3; el3 5
    const weights = [1, 3, 1];
    expect(run('ties', { density: 0.75, weightsAt: 'before' }, zero, taus, { weights })).toEqual([-2, 1.25, -3, 5]);
    expect(run('ties', { density: 0.75, weightsAt: 'after' }, zero, taus, { weights })).toEqual([2, 1.25, -3, 5]);
  });
  it('a zero vote with the positive rule keeps positive values (mergekit sign_weight >= 0)', () => {
    // τ1 = [2], τ2 = [-2]: sum 0 -> +: only τ1 agrees -> 2
    expect(run('ties', { density: 1 }, [0], [[2], [-2]])).toEqual([2]);
    expect(run('ties', { density: 1, tieRule: 'negative' }, [0], [[2], [-2]])).toEqual([-2]);
  });
  it('rejects density outside (0, 1]', () => {
    configError(() => getTechnique('ties').parse({ density: 0 }), 'CONFIG', /ties: density must be in \(0, 1\]/);
    configError(() => getTechnique('ties').parse({ density: 1.5 }), 'CONFIG', /density/);
    configError(() => getTechnique('ties').parse({ election: 'vote' }), 'CONFIG', /election must be one of sum, count/);
  });
});

describe('dare', () => {
  // τ = [2,-4,6,8], p = 0.5, draws [0.1,0.7,0.3,0.9]: drop where draw < p -> indices 0 and 2 dropped
  const drop = (params: Record<string, unknown>, ...us: number[]) => {
    const t = Float32Array.from([2, -4, 6, 8]);
    dropTaskVector(t, getTechnique('dare-linear').parse(params), draws(...us));
    return [...t];
  };
  it('drops with the draws and rescales by 1/(1-p): [0,-8,0,16]', () => {
    expect(drop({ p: 0.5 }, 0.1, 0.7, 0.3, 0.9)).toEqual([0, -8, 0, 16]);
  });
  it('L1 rescale keeps Σ|τ|: 20 before, 12 after -> ×20/12; none leaves survivors as they are', () => {
    close(drop({ p: 0.5, rescale: 'l1' }, 0.1, 0.7, 0.3, 0.9), [0, -20 / 3, 0, 40 / 3]);
    expect(drop({ p: 0.5, rescale: 'none' }, 0.1, 0.7, 0.3, 0.9)).toEqual([0, -4, 0, 8]);
  });
  it('exact mask drops ⌊p·n⌋ elements by partial Fisher-Yates', () => {
    // m = 2: i=0: j = 0 + ⌊0.1·4⌋ = 0 -> drop index 0; i=1: j = 1 + ⌊0.7·3⌋ = 3 -> drop index 3
    expect(drop({ p: 0.5, mask: 'exact' }, 0.1, 0.7)).toEqual([0, -8, 12, 0]);
  });
  it('the techniques drop with counter draws keyed by the tensor rng (expert k, element i), then combine', () => {
    // dare-ties = TIES step (density 1) on the vectors dropped by u32(key, k, i) >= floor(p·2^32)
    const base = [0, 0, 0, 0, 0, 0];
    const experts = [
      [1, -2, 3, -4, 5, -6],
      [-1, 1, 2, 2, -3, 3],
    ];
    const key = counterKey(tensorRng(0, 'w'));
    const dropped = experts.map((e, k) => {
      const t = Float32Array.from(e);
      dropTaskVectorCounter(t, getTechnique('dare-ties').parse({ p: 0.5 }), key, k);
      return [...t];
    });
    expect(dropped.flat().filter((v) => v === 0).length).toBeGreaterThan(0);
    expect(run('dare-ties', { p: 0.5 }, base, experts)).toEqual(run('ties', { density: 1 }, base, dropped));
    expect(run('dare-linear', { p: 0.5, lambda: 0.5 }, base, experts)).toEqual(
      run('task-arithmetic', { lambda: 0.5 }, base, dropped),
    );
    for (const rescale of ['l1', 'none']) {
      const d = experts.map((e, k) => {
        const t = Float32Array.from(e);
        dropTaskVectorCounter(t, getTechnique('dare-linear').parse({ p: 0.5, rescale }), key, k);
        return [...t];
      });
      expect(run('dare-linear', { p: 0.5, rescale }, base, experts)).toEqual(run('task-arithmetic', {}, base, d));
    }
  });
  it('the exact mask draws from a stream seeded from the tensor rng, experts in order', () => {
    const base = [0, 0, 0, 0, 0, 0];
    const experts = [
      [1, -2, 3, -4, 5, -6],
      [-1, 1, 2, 2, -3, 3],
    ];
    const u = uniformStream(tensorRng(0, 'w'));
    const dropped = experts.map((e) => {
      const t = Float32Array.from(e);
      dropTaskVector(t, getTechnique('dare-linear').parse({ p: 0.5, mask: 'exact' }), u);
      return [...t];
    });
    expect(run('dare-linear', { p: 0.5, mask: 'exact' }, base, experts)).toEqual(
      run('task-arithmetic', {}, base, dropped),
    );
  });
  it('p = 0 is plain task arithmetic; p = 1 is a CONFIG error', () => {
    expect(
      run(
        'dare-linear',
        { p: 0, lambda: 2 },
        [1, 1],
        [
          [2, 3],
          [0, 1],
        ],
      ),
    ).toEqual([1, 5]);
    configError(() => getTechnique('dare-linear').parse({ p: 1 }), 'CONFIG', /dare-linear: p must be in \[0, 1\)/);
    configError(() => getTechnique('dare-ties').parse({ p: -0.1 }), 'CONFIG', /p must be/);
  });
});

describe('breadcrumbs', () => {
  // τ = [5,-1,3,0.5,-4,2,10,0.1,-6,7]; p = 0.5, gamma = 0.1 on n = 10: drop 5 smallest, 1 largest
  // by |τ| descending: 10 | 7, -6, 5, -4 | 3, 2, -1, 0.5, 0.1 -> keep 7, -6, 5, -4
  const tau = [5, -1, 3, 0.5, -4, 2, 10, 0.1, -6, 7];
  const zero = tau.map(() => 0);
  it('per tensor keeps the middle band', () => {
    expect(run('breadcrumbs', { p: 0.5, gamma: 0.1 }, zero, [tau])).toEqual([5, 0, 0, 0, -4, 0, 0, 0, -6, 7]);
  });
  it('per row (shape [2,5]): each row drops ⌊2.5⌋ = 2 smallest and ⌊0.5⌋ = 0 largest', () => {
    // row 1 [5,-1,3,0.5,-4] keeps 5,-4,3; row 2 [2,10,0.1,-6,7] keeps 10,7,-6
    expect(run('breadcrumbs', { p: 0.5, gamma: 0.1, granularity: 'row' }, zero, [tau], { shape: [2, 5] })).toEqual([
      5, 0, 3, 0, -4, 0, 10, 0, -6, 7,
    ]);
  });
  it('breadcrumbs-ties runs the TIES step on the trimmed vectors', () => {
    // τ1 = [4,-1,2,3], τ2 = [-3,2,1,1]; p = gamma = 0.25 on n = 4: drop 1 smallest and 1 largest.
    // Ranks by |τ| descending, then index: τ1 4,3,2,-1 -> keep [0,0,2,3]; τ2 -3,2,1(i2),1(i3) -> keep [0,2,1,0]
    // votes [0,2,3,3]: el0 ties (+) but both values are 0, so nothing merges; disjoint sum -> [0,2,3,3]
    expect(
      run(
        'breadcrumbs-ties',
        { p: 0.25, gamma: 0.25, disjoint: 'sum' },
        [0, 0, 0, 0],
        [
          [4, -1, 2, 3],
          [-3, 2, 1, 1],
        ],
      ),
    ).toEqual([0, 2, 3, 3]);
  });
  it('rejects p + gamma >= 1', () => {
    configError(
      () => getTechnique('breadcrumbs').parse({ p: 0.9, gamma: 0.1 }),
      'CONFIG',
      /p \+ gamma must be below 1/,
    );
  });
});

describe('magmax', () => {
  // τ1 = [1,-3,2], τ2 = [-2,3,1]: el0 -2; el1 |3| tie -> later 3 / earlier -3; el2 2
  it('keeps the largest magnitude; ties to the later expert by default', () => {
    expect(
      run(
        'magmax',
        {},
        [0, 0, 0],
        [
          [1, -3, 2],
          [-2, 3, 1],
        ],
      ),
    ).toEqual([-2, 3, 2]);
    expect(
      run(
        'magmax',
        { ties: 'earlier' },
        [0, 0, 0],
        [
          [1, -3, 2],
          [-2, 3, 1],
        ],
      ),
    ).toEqual([-2, -3, 2]);
    expect(
      run(
        'magmax',
        { lambda: 0.5 },
        [1, 1, 1],
        [
          [2, -2, 3],
          [-1, 4, 2],
        ],
      ),
    ).toEqual([0, 2.5, 2]);
  });
});

describe('model-stock', () => {
  it('orthogonal task vectors give r = 0: the base', () => {
    expect(
      run(
        'model-stock',
        {},
        [0, 0],
        [
          [1, 0],
          [0, 1],
        ],
      ),
    ).toEqual([0, 0]);
  });
  it('cos = 1/√2 with N = 2: r = 2c/(1+c) = 2(√2-1); r·mean([1,0],[1,1]) = r·[1,0.5]', () => {
    const r = 2 * (Math.SQRT2 - 1);
    close(
      run(
        'model-stock',
        {},
        [0, 0],
        [
          [1, 0],
          [1, 1],
        ],
      ),
      [r, r / 2],
    );
  });
  it('N = 3: mean of cosines versus mean of angles', () => {
    // cosines 0, 1/√2, 1/√2 -> c = √2/3, r = 3c/(1+2c); angles π/2, π/4, π/4 -> mean π/3, c = 1/2, r = 0.75
    const c = Math.SQRT2 / 3;
    const r = (3 * c) / (1 + 2 * c);
    const e = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    close(run('model-stock', {}, [0, 0], e), [(r * 2) / 3, (r * 2) / 3]);
    close(run('model-stock', { aggregate: 'angle' }, [0, 0], e), [0.5, 0.5]);
  });
  it('negative cosine: clamped to the base, or kept (r = 2c/(1+c) with c = -1/√2)', () => {
    expect(
      run(
        'model-stock',
        {},
        [0, 0],
        [
          [1, 0],
          [-1, 1],
        ],
      ),
    ).toEqual([0, 0]);
    const c = -Math.SQRT1_2;
    const r = (2 * c) / (1 + c);
    close(
      run(
        'model-stock',
        { negativeCos: 'keep' },
        [0, 0],
        [
          [1, 0],
          [-1, 1],
        ],
      ),
      [0, r * 0.5],
      4,
    );
    configError(
      () =>
        run(
          'model-stock',
          { negativeCos: 'keep' },
          [0, 0],
          [
            [1, 0],
            [-1, 0],
          ],
        ),
      'MERGE',
      /singular/,
    );
  });
  it('per row (mergekit filter_wise): each row gets its own ratio', () => {
    // shape [2,2]: row 0 τ = [1,0],[0,1] -> cos 0 -> base row; row 1 τ = [1,0],[1,1] -> r = 2(√2-1), mean [1,0.5]
    const r = 2 * (Math.SQRT2 - 1);
    const out = run(
      'model-stock',
      { granularity: 'row' },
      [0, 0, 0, 0],
      [
        [1, 0, 1, 0],
        [0, 1, 1, 1],
      ],
      { shape: [2, 2] },
    );
    close(out, [0, 0, r, r / 2]);
  });
  it('zero task vectors count as cos 0 (the base), never NaN', () => {
    expect(
      run(
        'model-stock',
        {},
        [1, 2],
        [
          [1, 2],
          [3, 4],
        ],
      ),
    ).toEqual([1, 2]);
  });
});

describe('slerp', () => {
  it('interpolates the angle: [1,0] to [0,1] at t = 1/2 and 1/3', () => {
    close(
      run(
        'slerp',
        { t: 0.5 },
        [0, 0],
        [
          [1, 0],
          [0, 1],
        ],
      ),
      [Math.SQRT1_2, Math.SQRT1_2],
    );
    // Ω = π/2: s0 = sin(π/3) = √3/2, s1 = sin(π/6) = 1/2
    close(
      run(
        'slerp',
        { t: 1 / 3 },
        [0, 0],
        [
          [1, 0],
          [0, 1],
        ],
      ),
      [Math.sqrt(3) / 2, 0.5],
    );
  });
  it('falls back to linear for antipodal, parallel and zero vectors', () => {
    expect(
      run(
        'slerp',
        { t: 0.25 },
        [0, 0],
        [
          [1, 0],
          [-1, 0],
        ],
      ),
    ).toEqual([0.5, 0]);
    expect(
      run(
        'slerp',
        { t: 0.5 },
        [0, 0],
        [
          [1, 1],
          [3, 3],
        ],
      ),
    ).toEqual([2, 2]);
    expect(
      run(
        'slerp',
        { t: 0.5 },
        [0, 0],
        [
          [0, 0],
          [2, 2],
        ],
      ),
    ).toEqual([1, 1]);
  });
  it('t = 0 and 1 return the endpoints exactly; task-vector space adds θ0 back', () => {
    expect(
      run(
        'slerp',
        { t: 0 },
        [0, 0],
        [
          [0.1, 3],
          [7, 0.3],
        ],
      ),
    ).toEqual([Math.fround(0.1), 3]);
    expect(
      run(
        'slerp',
        { t: 1 },
        [0, 0],
        [
          [0.1, 3],
          [7, 0.3],
        ],
      ),
    ).toEqual([7, Math.fround(0.3)]);
    close(
      run(
        'slerp',
        { t: 0.5, space: 'task-vectors' },
        [1, 1],
        [
          [2, 1],
          [1, 2],
        ],
      ),
      [1 + Math.SQRT1_2, 1 + Math.SQRT1_2],
    );
  });
  it('takes exactly two experts and t in [0, 1]', () => {
    configError(() => getTechnique('slerp').parse({ t: 1.5 }), 'CONFIG', /slerp: t must be in \[0, 1\]/);
    expect(getTechnique('slerp').experts).toEqual({ min: 2, max: 2 });
  });
});

describe('random-selection', () => {
  it('picks the expert whose probability interval holds each draw', () => {
    // uniform: bounds [0.5, 1]; draws [0.1,0.6,0.4,0.99] -> experts [0,1,0,1]
    const base = Float32Array.from([0, 0, 0, 0]);
    const e = [Float32Array.from([1, 1, 1, 1]), Float32Array.from([2, 2, 2, 2])];
    expect([...randomPick(base, e, [1, 1], draws(0.1, 0.6, 0.4, 0.99))]).toEqual([1, 2, 1, 2]);
    // weights [3,1]: bounds [0.75, 1] -> [0,0,0,1]
    expect([...randomPick(base, e, [3, 1], draws(0.1, 0.6, 0.4, 0.99))]).toEqual([1, 1, 1, 2]);
  });
  it('the technique picks with counter draws keyed by the tensor rng: θ0 + λ·pick', () => {
    const base = [1, 1, 1, 1, 1];
    const experts = [
      [2, 2, 2, 2, 2],
      [3, 3, 3, 3, 3],
      [0, 0, 0, 0, 0],
    ];
    const pick = randomPickByKey(
      Float32Array.from(base),
      experts.map((e) => Float32Array.from(e)),
      [1, 1, 1],
      counterKey(tensorRng(0, 'w')),
    );
    expect(run('random-selection', { lambda: 2 }, base, experts)).toEqual([...pick].map((d) => 1 + 2 * d));
  });
  it('rejects negative or all-zero weights', () => {
    configError(() => run('random-selection', {}, [0], [[1], [2]], { weights: [1, -1] }), 'MERGE', /must be >= 0/);
    configError(() => run('random-selection', {}, [0], [[1], [2]], { weights: [0, 0] }), 'MERGE', /sum to zero/);
  });
});
