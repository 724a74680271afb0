import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { fail } from '../src/params/errors.js';
import { didYouMean } from '../src/params/did-you-mean.js';
import { loadYaml } from '../src/merge/config-syntax.js';
import { loadStudyFile } from '../src/study/study-file.js';
import type { Study } from '../src/study/types.js';

export type { Study } from '../src/study/types.js';

/** The folder of the built-in study files. */
export const SIMS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** In the order `--list` shows them: the default first. */
const ORDER = [
  'default',
  'offline-vs-continual',
  'time-aware-offline',
  'best-in-time',
  'technique-variants',
  'merge-settings',
  'scaling-model',
  'scaling-compute',
  'scaling-horizon',
  'regime-map',
  'continual-merging',
];

await loadYaml();

/** Every built-in study: the study files in sims/ (a file's own name is the study's). */
export const STUDIES: readonly Study[] = readdirSync(SIMS_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => loadStudyFile(join(SIMS_DIR, f)))
  .sort((a, b) => (ORDER.indexOf(a.name) + 1 || 99) - (ORDER.indexOf(b.name) + 1 || 99) || (a.name < b.name ? -1 : 1));

/** A built-in study by name, or a study file by path (anything ending in .yaml, .yml or .json). */
export function getStudy(nameOrPath: string): Study {
  if (/\.(ya?ml|json)$/i.test(nameOrPath)) return loadStudyFile(nameOrPath);
  const s = STUDIES.find((x) => x.name === nameOrPath);
  if (!s)
    fail(
      'CONFIG',
      `unknown study "${nameOrPath}"${didYouMean(
        nameOrPath,
        STUDIES.map((x) => x.name),
      )} (known: ${STUDIES.map((x) => x.name).join(', ')}; or give a study file, e.g. my-study.yaml)`,
    );
  return s;
}
