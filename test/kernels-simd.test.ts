import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nativeKernelsAvailable } from '../src/params/kernels.js';

const run = promisify(execFile);

// The native TIES kernels pick AVX-512, AVX2 or portable C at their first use; each level is checked
// against the reference in a process of its own (the choice is made once per process).
describe.runIf(nativeKernelsAvailable())('native TIES kernels at every instruction-set level', () => {
  for (const level of ['avx512', 'avx2', 'none']) {
    it(`TIME_MERGE_SIMD=${level}: selection and merge give the reference's rules and bits`, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/simd-check.ts'], { env: { ...process.env, TIME_MERGE_SIMD: level } });
      expect(stdout.trim()).toBe('ok 16');
    }, 60_000);
  }
});
