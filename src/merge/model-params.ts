import { fail } from '../params/errors.js';
import type { MergeTechnique } from './types.js';
import { hasOwnKey } from '../params/own.js';

/** One model entry of a merge config: its path as written, its weight and any other per-model parameters. */
export interface ModelEntry {
  readonly model: string;
  readonly weight: number;
  /** Per-model technique parameters (mergekit style: density, p, gamma, ... under a model). */
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * Folds per-model technique parameters into the technique's parameters. Each model's value is its own,
 * else the top-level one, else the default. A per-model parameter of the technique (facts.perModel:
 * density, p, gamma, ...) whose values differ stays per model (expertParams); any other key must agree
 * across models (the common config that repeats a value under every model) and becomes the technique's
 * parameter. Models that disagree on such a key are a CONFIG error naming both models and the key, as
 * are keys that are not parameters of the technique. `defaults` are the technique's parameters parsed
 * from the top level (defaults filled in).
 */
export function liftModelParams(
  technique: MergeTechnique<any>,
  topLevel: Readonly<Record<string, unknown>>,
  defaults: Readonly<Record<string, unknown>>,
  models: readonly ModelEntry[],
  where: (i: number) => string,
): { params: Record<string, unknown>; expertParams?: Record<string, number>[] } {
  const known = technique.params.map((d) => d.name);
  const lifted: Record<string, unknown> = { ...topLevel };
  const keys = [...new Set(models.flatMap((m) => Object.keys(m.params)))];
  const own: Record<string, number>[] = models.map(() => ({}));
  for (const key of keys) {
    const owner = models.findIndex((m) => hasOwnKey(m.params, key));
    if (!known.includes(key)) {
      fail(
        'CONFIG',
        `${where(owner)}.parameters: "${key}" is not a parameter of ${technique.name} (per-model: weight${known.length ? `; technique parameters: ${known.join(', ')}` : ''})`,
      );
    }
    const valueAt = (i: number) => (hasOwnKey(models[i].params, key) ? models[i].params[key] : defaults[key]);
    const first = valueAt(owner);
    // A per-model parameter (facts.perModel) may take each model's own value.
    if (
      technique.facts.perModel.includes(key) &&
      models.some((_, i) => JSON.stringify(valueAt(i)) !== JSON.stringify(first))
    ) {
      models.forEach((_, i) => {
        const v = valueAt(i);
        if (typeof v !== 'number')
          fail('CONFIG', `${where(i)}.parameters.${key} must be a number, got ${JSON.stringify(v)}`);
        own[i][key] = v;
      });
      continue;
    }
    models.forEach((_, i) => {
      const v = valueAt(i);
      if (JSON.stringify(v) !== JSON.stringify(first)) {
        const fromWhere = key in models[i].params ? '' : key in topLevel ? ' (top-level parameters)' : ' (the default)';
        fail(
          'CONFIG',
          `${where(i)}: ${key} is ${JSON.stringify(v)}${fromWhere} but ${JSON.stringify(first)} for ${where(owner)}; ` +
            `${technique.name} applies one ${key} to every model, so per-model values must agree (or set ${key} once under parameters)`,
        );
      }
    });
    lifted[key] = first;
  }
  const differing = own.some((o) => Object.keys(o).length > 0);
  return differing ? { params: lifted, expertParams: own } : { params: lifted };
}

/**
 * Weights a technique cannot use, found from the config alone (before any file is opened): a zero sum
 * when the technique normalises them (normalize: true; random-selection's draw probabilities), and
 * negative draw probabilities.
 */
export function checkWeightsUsable(
  technique: MergeTechnique<any>,
  params: Readonly<Record<string, unknown>>,
  weights: readonly number[],
  where: string,
): void {
  const sum = weights.reduce((a, w) => a + w, 0);
  const list = `[${weights.join(', ')}]`;
  if (technique.facts.weights === 'probabilities') {
    const neg = weights.findIndex((w) => w < 0);
    if (neg >= 0)
      fail(
        'CONFIG',
        `${where}: ${technique.name} draws experts with probabilities ∝ weights, which must be >= 0; got ${list}`,
      );
    if (sum === 0)
      fail(
        'CONFIG',
        `${where}: ${technique.name} draws experts with probabilities ∝ weights, and weights ${list} sum to zero`,
      );
  }
  if (params.normalize === true && sum === 0) {
    fail(
      'CONFIG',
      `${where}: weights ${list} sum to zero and ${technique.name} normalises them (normalize: true); change the weights or set normalize: false`,
    );
  }
}
