/**
 * A fixed seeded sample of the fuzz suite (fuzz/run.ts): a few thousand safetensors files, merge configs,
 * study files and corrupted results folders checked in process, and a few faults injected into the CLI.
 * Every case must end as a clean error or an exact accept; `npm run fuzz -- --cases N` runs any number.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../fuzz/run.js';

const SAMPLE: Record<string, number> = {
  safetensors: 4000,
  'merge-config': 1500,
  'study-file': 1500,
  'results-folder': 300,
};

describe('the fuzz suite, seeded sample', () => {
  for (const [kind, cases] of Object.entries(SAMPLE)) {
    it(`${cases} ${kind} cases: no defect, and both clean errors and exact accepts occur`, async () => {
      const { tallies } = await runFuzz({ cases, seed: 26, kinds: [kind] });
      const t = tallies.get(kind)!;
      expect(t.defects).toEqual([]);
      expect(t.total).toBe(cases);
      // a generator that only ever made errors (or only valid inputs) would test little
      expect(t.counts['clean-error']).toBeGreaterThan(cases / 20);
      expect(t.counts['exact-accept']).toBeGreaterThan(cases / 20);
    });
  }

  it('faults injected into the CLI: signals, truncated inputs, a full disk', async () => {
    const { tallies } = await runFuzz({ cases: 0, faultCases: 5, seed: 26, kinds: ['faults'] });
    const t = tallies.get('faults')!;
    expect(t.defects).toEqual([]);
    expect(t.total).toBe(5);
  });
});
