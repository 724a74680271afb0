/** Seed ranges are measured before they are expanded: a huge range is a CONFIG error, not a RangeError or an OOM. */
import { describe, expect, it } from 'vitest';
import { parseSeeds } from '../src/cli/commands/sim.js';
import { parseStudyFile } from '../src/study/study-file.js';
import { MAX_SEEDS } from '../src/study/seeds.js';

const study = (seeds: string) =>
  parseStudyFile(`name: x\nmethods: [finetune]\ntechniques: [weighted-average]\nseeds: ${seeds}\n`, 's.yaml');

describe('seed ranges', () => {
  it('expand up to the cap, both ends included', () => {
    expect(parseSeeds(`0-${MAX_SEEDS - 1}`)).toHaveLength(MAX_SEEDS);
    expect(study(`5-${MAX_SEEDS + 4}`).seeds).toEqual(Array.from({ length: MAX_SEEDS }, (_, i) => 5 + i));
  });

  it('refuse more seeds than the cap, naming the count', () => {
    for (const text of ['0-99999999999', '0-100000000', `0-${MAX_SEEDS}`]) {
      const n = Number(text.split('-')[1]) + 1;
      expect(() => parseSeeds(text)).toThrowError(`--seeds "${text}": ${n} seeds; at most ${MAX_SEEDS} are accepted`);
      expect(() => study(text)).toThrowError(`s.yaml: seeds: ${n} seeds; at most ${MAX_SEEDS} are accepted`);
    }
    // the cap counts every range of a --seeds list together
    expect(() => parseSeeds('0-6000,7000-12000')).toThrowError(/11002 seeds; at most/);
  });

  it('refuse ends past the largest safe integer', () => {
    expect(() => parseSeeds('0-9999999999999999999')).toThrowError(/goes past the largest seed/);
    expect(() => study('9999999999999999998-9999999999999999999')).toThrowError(/goes past the largest seed/);
    expect(() => parseSeeds('99999999999999999999')).toThrowError(/expected integers/);
  });
});
