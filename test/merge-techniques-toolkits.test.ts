import { describe, expect, it } from 'vitest';
import { dellaKeepProbabilities } from '../src/merge/della.js';
import { tensorRng } from '../src/merge/engine.js';
import { getTechnique } from '../src/merge/registry.js';

/** The techniques that come from mergekit (della, sce, karcher, nuslerp, multislerp, passthrough) and fomo_in_flux (tall-masks), on hand-computed cases. */
function run(
  technique: string,
  params: Record<string, unknown>,
  base: number[],
  experts: number[][],
  o: { weights?: number[]; shape?: number[]; seed?: number; expertParams?: Record<string, number>[] } = {},
): number[] {
  const t = getTechnique(technique);
  const input = {
    name: 'w',
    shape: o.shape ?? [base.length],
    base: Float32Array.from(base),
    experts: experts.map((e) => Float32Array.from(e)),
    weights: o.weights ?? experts.map(() => 1),
    rng: tensorRng(o.seed ?? 0, 'w'),
    expertParams: o.expertParams,
  };
  return [...t.merge(input, t.parse(params))];
}

const close = (a: number[], b: number[], digits = 5) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i], digits));
};

describe('della', () => {
  it('keep probabilities rise with the magnitude rank inside each row: density ± epsilon at the ends', () => {
    // row [3, -1, 2]: ranks 3, 1, 2 of 3 -> 0.4 + 0.2·(r-1)/2 = [0.6, 0.4, 0.5]; row [0, 5, 1] -> [0.4, 0.6, 0.5]
    close(
      [...dellaKeepProbabilities(Float32Array.from([3, -1, 2, 0, 5, 1]), [2, 3], 0.5, 0.1)],
      [0.6, 0.4, 0.5, 0.4, 0.6, 0.5],
      12,
    );
    // equal magnitudes rank by position: [2, -2, 1] -> ranks 2, 3, 1
    close([...dellaKeepProbabilities(Float32Array.from([2, -2, 1]), [3], 0.5, 0.1)], [0.5, 0.6, 0.4], 12);
    // a 1-d tensor is one row; a single element gets density - epsilon
    close([...dellaKeepProbabilities(Float32Array.from([7]), [1], 0.5, 0.1)], [0.4], 12);
  });
  it('density 1 prunes nothing: della is TIES at density 1 and della-linear task arithmetic, bit for bit', () => {
    const base = [1, 2, 3, 4];
    const xs = [
      [2, 0, 3.5, 4],
      [0, 3, 2, 6],
    ];
    expect(run('della', { density: 1 }, base, xs, { weights: [1, 2] })).toEqual(
      run('ties', { density: 1 }, base, xs, { weights: [1, 2] }),
    );
    expect(run('della-linear', { density: 1, lambda: 0.5 }, base, xs)).toEqual(
      run('task-arithmetic', { lambda: 0.5 }, base, xs),
    );
  });
  it('keeps about q_i of each rank, keeps the L1 norm with rescale l1, and is seeded', () => {
    const n = 4000;
    const ramp = Array.from({ length: n }, (_, i) => i + 1);
    const zeros = new Array<number>(n).fill(0);
    const kept = run('della-linear', { density: 0.5, epsilon: 0.4, rescale: 'none' }, zeros, [ramp], { seed: 3 });
    const rate = (from: number, to: number) => kept.slice(from, to).filter((v) => v !== 0).length / (to - from);
    // ranks 1..400 keep with probability 0.1..0.18, ranks 3601..4000 with 0.82..0.9
    expect(rate(0, 400)).toBeGreaterThan(0.08);
    expect(rate(0, 400)).toBeLessThan(0.2);
    expect(rate(3600, 4000)).toBeGreaterThan(0.8);
    expect(rate(3600, 4000)).toBeLessThan(0.92);
    const l1 = run('della-linear', { density: 0.5, epsilon: 0.4 }, zeros, [ramp], { seed: 3 });
    expect(l1.reduce((s, v) => s + Math.abs(v), 0)).toBeCloseTo((n * (n + 1)) / 2, -2);
    expect(run('della-linear', { density: 0.5 }, zeros, [ramp], { seed: 3 })).toEqual(
      run('della-linear', { density: 0.5 }, zeros, [ramp], { seed: 3 }),
    );
    expect(() => run('della', { density: 0.1, epsilon: 0.15 }, [0], [[1]])).toThrow(
      /density ± epsilon must lie in \(0, 1\)/,
    );
  });
});

describe('sce', () => {
  it('weights experts by mean τ², erases minority signs: τ1 = [2, 0, -1], τ2 = [4, 0, 1]', () => {
    // energies 5/3 and 17/3 -> w = [5/22, 17/22]; signs of the sums [6, 0, 0] -> all + (a zero sum elects +);
    // element 0: (2·5 + 4·17)/22 = 78/22; element 1: nothing agrees -> 0; element 2: τ2 alone -> 1
    close(
      run(
        'sce',
        {},
        [0, 0, 0],
        [
          [2, 0, -1],
          [4, 0, 1],
        ],
      ),
      [78 / 22, 0, 1],
      6,
    );
    // config weights do not matter
    close(
      run(
        'sce',
        {},
        [0, 0, 0],
        [
          [2, 0, -1],
          [4, 0, 1],
        ],
        { weights: [9, 0.1] },
      ),
      [78 / 22, 0, 1],
      6,
    );
  });
  it('selectTopk keeps the most variable elements: variances [1, 0, 1], 2 non-zero, k = 1 keeps element 0', () => {
    // masked τ1 = [2, 0, 0], τ2 = [4, 0, 0]: energies 4/3, 16/3 -> w = [0.2, 0.8]: 0.4 + 3.2 = 3.6
    close(
      run(
        'sce',
        { selectTopk: 0.5 },
        [0, 0, 0],
        [
          [2, 0, -1],
          [4, 0, 1],
        ],
      ),
      [3.6, 0, 0],
      6,
    );
  });
});

describe('karcher', () => {
  it('the mean direction of orthogonal vectors, times the mean norm: [2, 0] and [0, 4] -> 3·[1, 1]/√2', () => {
    close(
      run(
        'karcher',
        {},
        [0, 0],
        [
          [2, 0],
          [0, 4],
        ],
      ),
      [3 / Math.SQRT2, 3 / Math.SQRT2],
      5,
    );
    // one model is itself; all-zero models give zeros
    expect(run('karcher', {}, [0, 0], [[1.5, -2]])).toEqual([1.5, -2]);
    expect(
      run(
        'karcher',
        {},
        [0, 0],
        [
          [0, 0],
          [0, 0],
        ],
      ),
    ).toEqual([0, 0]);
  });
});

describe('nuslerp', () => {
  it('t = w2/(w1 + w2): weights [1, 3] on [1, 0] and [0, 1] give [sin(π/8), sin(3π/8)]', () => {
    close(
      run(
        'nuslerp',
        {},
        [0, 0],
        [
          [1, 0],
          [0, 1],
        ],
        { weights: [1, 3] },
      ),
      [Math.sin(Math.PI / 8), Math.sin((3 * Math.PI) / 8)],
      6,
    );
  });
  it('per vector along the last dimension, and in task-vector space around θ0', () => {
    // row 0: [1, 0] to [0, 1] at t = 0.5 -> [1, 1]/√2; row 1: parallel [2, 0] and [4, 0] -> lerp [3, 0]
    close(
      run(
        'nuslerp',
        { unit: 'last-dim' },
        [0, 0, 0, 0],
        [
          [1, 0, 2, 0],
          [0, 1, 4, 0],
        ],
        { shape: [2, 2] },
      ),
      [Math.SQRT1_2, Math.SQRT1_2, 3, 0],
      6,
    );
    close(
      run(
        'nuslerp',
        { space: 'task-vectors' },
        [1, 1],
        [
          [2, 1],
          [1, 2],
        ],
      ),
      [1 + Math.SQRT1_2, 1 + Math.SQRT1_2],
      6,
    );
  });
});

describe('multislerp', () => {
  it('two orthogonal unit vectors, equal weights: the midpoint of the arc; antipodal ones: their weighted sum', () => {
    close(
      run(
        'multislerp',
        {},
        [0, 0],
        [
          [1, 0],
          [0, 1],
        ],
      ),
      [Math.SQRT1_2, Math.SQRT1_2],
      6,
    );
    close(
      run(
        'multislerp',
        {},
        [0, 0],
        [
          [1, 0],
          [-1, 0],
        ],
        { weights: [1, 1] },
      ),
      [0, 0],
      6,
    );
    // three models of norm 2 along the axes, equal weights: the direction of [1, 1, 1], norm 2 (the
    // tangent components cancel)
    close(
      run(
        'multislerp',
        {},
        [0, 0, 0],
        [
          [2, 0, 0],
          [0, 2, 0],
          [0, 0, 2],
        ],
      ),
      [2 / Math.sqrt(3), 2 / Math.sqrt(3), 2 / Math.sqrt(3)],
      6,
    );
  });
});

describe('passthrough', () => {
  it('returns its one model, times scale (per model too)', () => {
    expect(run('passthrough', {}, [0, 0], [[1.5, -2]])).toEqual([1.5, -2]);
    expect(run('passthrough', { scale: 2 }, [0, 0], [[1.5, -2]])).toEqual([3, -4]);
    expect(run('passthrough', {}, [0, 0], [[1.5, -2]], { expertParams: [{ scale: 0.5 }] })).toEqual([0.75, -1]);
  });
});

describe('tall-masks', () => {
  it('τ1 = [1, 0, 2], τ2 = [1, 3, -2]: active counts [2, 1, 2] against tallLambda 0.4', () => {
    // Σ τ = [2, 3, 0]; expert 1 active where |τ1| > 0.4·|Σ τ - τ1| = [0.4, 1.2, 0.8]: [yes, no, yes];
    // expert 2 where |τ2| > 0.4·|Σ τ - τ2| = [0.4, 0, 0.8]: [yes, yes, yes].
    expect(
      run(
        'tall-masks',
        { pruningThreshold: 2 },
        [0, 0, 0],
        [
          [1, 0, 2],
          [1, 3, -2],
        ],
      ),
    ).toEqual([2, 0, 0]);
    expect(
      run(
        'tall-masks',
        {},
        [0, 0, 0],
        [
          [1, 0, 2],
          [1, 3, -2],
        ],
      ),
    ).toEqual([2, 3, 0]);
    expect(
      run(
        'tall-masks',
        { pruningThreshold: 2, lambda: 0.5 },
        [1, 1, 1],
        [
          [2, 1, 3],
          [2, 4, -1],
        ],
      ),
    ).toEqual([2, 1, 1]);
  });
});

describe('LiNeS curves (fomo_in_flux lines_params scaling types)', () => {
  it('layer l of L gets alpha + beta·x, x², or √x with x = l/(L-1)', async () => {
    const { linesScale, parseLines } = await import('../src/merge/lines.js');
    const at = (curve: string) =>
      linesScale('visual.transformer.resblocks.1.attn.w', 5, parseLines({ alpha: 0.2, beta: 0.8, curve }));
    expect(at('linear')).toBeCloseTo(0.2 + 0.8 * 0.25, 12);
    expect(at('quadratic')).toBeCloseTo(0.2 + 0.8 * 0.0625, 12);
    expect(at('sqrt')).toBeCloseTo(0.2 + 0.8 * 0.5, 12);
  });
});
