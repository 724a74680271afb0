import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nativeKernelsAvailable } from '../src/params/kernels.js';

const run = promisify(execFile);

const check = async (env: Record<string, string>) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/simd-check.ts'], {
    env: { ...process.env, ...env },
  });
  return stdout.trim();
};

// The native TIES kernels pick AVX-512, AVX2 or portable C at their first use; each level is checked
// against the reference in a process of its own (the choice is made once per process).
describe.runIf(nativeKernelsAvailable())('native TIES kernels at every instruction-set level', () => {
  for (const level of ['avx512', 'avx2', 'none']) {
    it(`TIME_MERGE_SIMD=${level}: selection and merge give the reference's rules and bits`, async () => {
      expect(await check({ TIME_MERGE_SIMD: level })).toBe('ok 16');
    }, 60_000);
  }
});

// The thread pool splits passes into parts and spreads per-expert steps over its threads; results must
// not depend on how many there are, including more threads than cores and more threads than experts
// (threads with no task that step).
describe.runIf(nativeKernelsAvailable())('native TIES kernels at every pool size', () => {
  for (const threads of ['1', '3', '7']) {
    it(`TIME_MERGE_THREADS=${threads}: selection and merge give the reference's rules and bits`, async () => {
      expect(await check({ TIME_MERGE_THREADS: threads })).toBe('ok 16');
    }, 60_000);
  }
});
