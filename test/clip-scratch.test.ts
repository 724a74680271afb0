import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VIT_B_16 } from '../src/clip/config.js';
import { scratchRoot, weightsBytes } from '../src/clip/torch-engine.js';

describe('the torch engine scratch folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scratch-root-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sizes a float32 copy of ViT-B/16 within 1% of its 149,620,737 parameters', () => {
    expect(Math.abs(weightsBytes(VIT_B_16) / 4 / 149_620_737 - 1)).toBeLessThan(0.01);
  });

  it('takes the tmpfs when it has room, and says so when it falls back to the temporary folder', () => {
    const logs: string[] = [];
    expect(scratchRoot(1, (m) => logs.push(m), dir)).toBe(dir);
    expect(logs).toEqual([]);
    expect(scratchRoot(2 ** 60, (m) => logs.push(m), dir)).toBe(tmpdir());
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(new RegExp(`^scratch: ${dir} has \\d+ MiB free, 1099511627776 MiB wanted; using `));
    expect(scratchRoot(1, undefined, join(dir, 'missing'))).toBe(tmpdir());
  });
});
