import { readFileSync } from 'node:fs';

/** The package version, from package.json (the compiled tree carries a copy one level up, in dist/). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
