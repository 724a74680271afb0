import { fail } from '../params/errors.js';
import { taskArithmetic } from './task-arithmetic.js';
import type { MergeTechnique } from './types.js';
import { weightedAverage } from './weighted-average.js';

// One entry per technique; each lives in its own file.
const TECHNIQUES: readonly MergeTechnique<any>[] = [weightedAverage, taskArithmetic];

const byName = new Map<string, MergeTechnique<any>>();
for (const t of TECHNIQUES) {
  for (const key of [t.name, ...(t.aliases ?? [])]) {
    if (byName.has(key)) throw new Error(`duplicate technique name ${key}`);
    byName.set(key, t);
  }
}

export function listTechniques(): readonly MergeTechnique<any>[] {
  return TECHNIQUES;
}

export function getTechnique(name: string): MergeTechnique<any> {
  const t = byName.get(name);
  if (!t) fail('CONFIG', `unknown merge technique "${name}" (known: ${TECHNIQUES.map((x) => x.name).join(', ')})`);
  return t;
}
