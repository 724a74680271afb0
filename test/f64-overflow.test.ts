/** A finite F64 value too large for float32 is reported as what the file holds and why it cannot be read. */
import { afterAll, describe, expect, it } from 'vitest';
import { takeCheck } from '../src/params/deferred-checks.js';
import { openSafetensors } from '../src/params/safetensors/index.js';
import { buildSafetensors, leBytes, tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-f64-');
afterAll(() => tmp.cleanup());

const file = (name: string, values: number[]) =>
  tmp.file(
    name,
    buildSafetensors(
      { w: { dtype: 'F64', shape: [values.length], data_offsets: [0, 8 * values.length] } },
      leBytes(values, 'f64'),
    ),
  );

describe('F64 inputs past float32', () => {
  for (const options of [{}, { map: true }, { reuseBuffers: true }]) {
    it(`name the stored value and the overflow (${JSON.stringify(options)})`, async () => {
      const path = file('big.safetensors', [1, 2, -1e300, 4]);
      for (const requireFinite of [true, 'deferred'] as const) {
        const f = await openSafetensors(path, { ...options, requireFinite });
        const read = async () => {
          const v = await f.read('w');
          takeCheck(v)?.();
        };
        await expect(read()).rejects.toThrowError(
          `${path}: tensor "w" holds -1e+300 at index 2 (F64 [4]), which overflows float32, the type inputs are read and merged in`,
        );
        await f.close();
      }
      // a stored Infinity is still an Infinity
      const inf = file('inf.safetensors', [1, Number.POSITIVE_INFINITY]);
      const f = await openSafetensors(inf, { ...options, requireFinite: true });
      await expect(f.read('w')).rejects.toThrowError(
        `${inf}: tensor "w" holds Infinity at index 1 (F64 [2]); inputs must be finite`,
      );
      await f.close();
    });
  }
});
