import fc from 'fast-check';
import { describe, it } from 'vitest';
import { chooseSubset } from '../src/merge/global-drop.js';
import { evaluateSetting, gradientPositions } from '../src/merge/toolkit-settings.js';
import { uniformStream } from '../src/merge/uniform.js';
import { tensorRng } from '../src/merge/tensor-rng.js';

const RUNS = { numRuns: 100 };
const num = fc.double({ min: -10, max: 10, noNaN: true });

describe('mergekit settings evaluated per tensor', () => {
  it('a gradient starts at its first entry, ends at its last, and stays between its neighbouring entries', () => {
    fc.assert(
      fc.property(fc.array(num, { minLength: 1, maxLength: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), (g, t) => {
        const at = (x: number) => evaluateSetting(g, 'w', x) as number;
        if (at(0) !== g[0] || Math.abs(at(1) - g[g.length - 1]) > 1e-12) return false;
        const i0 = Math.floor(t * (g.length - 1));
        const i1 = Math.min(g.length - 1, i0 + 1);
        const v = at(t);
        return v >= Math.min(g[i0], g[i1]) - 1e-12 && v <= Math.max(g[i0], g[i1]) + 1e-12;
      }),
      RUNS,
    );
  });
  it('a constant gradient is that constant everywhere; a filter list takes the first match, else is unset', () => {
    fc.assert(
      fc.property(
        num,
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('mlp', 'attn', 'embed'),
        (c, len, t, part) => {
          const constant =
            Math.abs((evaluateSetting(new Array(len).fill(c), 'w', t) as number) - c) <= 1e-12 * (1 + Math.abs(c));
          const filters = [
            { filter: 'mlp', value: 1 },
            { filter: 'attn', value: [2, 4] },
          ];
          const name = `model.layers.3.${part}.weight`;
          const v = evaluateSetting(filters, name, t);
          const expected = part === 'mlp' ? 1 : part === 'attn' ? 2 + 2 * t : undefined;
          return constant && (expected === undefined ? v === undefined : Math.abs((v as number) - expected) < 1e-12);
        },
      ),
      RUNS,
    );
  });
  it('gradient positions: layer l of L at l/(L-1), outside the layers 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (L) => {
        const names = [
          'model.embed_tokens.weight',
          ...Array.from({ length: L }, (_, l) => `model.layers.${l}.mlp.weight`),
          'lm_head.weight',
        ];
        const t = gradientPositions(names);
        return (
          t('model.embed_tokens.weight') === 0 &&
          t('lm_head.weight') === 0 &&
          names.slice(1, -1).every((n, l) => t(n) === (L > 1 ? l / (L - 1) : 1))
        );
      }),
      RUNS,
    );
  });
});

describe("the model-wide drop's subset", () => {
  it('has exactly m of n elements, and the same seed gives the same subset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }))),
        fc.integer(),
        ([n, m], seed) => {
          const a = chooseSubset(n, m, uniformStream(tensorRng(seed, 'x')));
          const b = chooseSubset(n, m, uniformStream(tensorRng(seed, 'x')));
          let count = 0;
          for (let i = 0; i < n; i++) count += (a[i >>> 5] >>> (i & 31)) & 1;
          for (let i = n; i < a.length * 32; i++) if ((a[i >>> 5] >>> (i & 31)) & 1) return false;
          return count === m && a.every((w, i) => w === b[i]);
        },
      ),
      RUNS,
    );
  });
});
