import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'properties/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // dist/ built before any test runs the CLI (test/cli-terminal.ts runs the bundle, as users do).
    globalSetup: ['test/build-dist.ts'],
  },
});
