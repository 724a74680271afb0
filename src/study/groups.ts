import { methodLabel, parseMethod } from '../time/method.js';
import { DEPLOY_KINDS, INIT_PROTOCOLS } from '../time/protocols.js';
import type { TechniqueChoice } from './types.js';

/** A method's name as results show it: the preset name when the init/deploy pair is one. */
export function methodName(spec: string): string {
  return methodLabel(parseMethod(spec));
}

/** Every init protocol x every deploy protocol (defaults for their options), preset names where they exist. */
export function fullProtocolGrid(): string[] {
  return INIT_PROTOCOLS.flatMap((init) => DEPLOY_KINDS.map((deploy) => methodName(`${init}+${deploy}`)));
}

/** The named methods of the official code (fomo_in_flux continual_lib/*.py), Best-in-TIME (ema_paint) among them. */
export const NAMED_METHODS = ['finetune', 'offline_merge', 'zs_paint', 'ft_paint', 'ema_paint'] as const;

/** continual_lib/double_merge_{init}_{deploy}.py: init zs, ft, all, unrolled x deploy ft, all, unrolled. */
export const DOUBLE_MERGES = ['zs', 'ft', 'all', 'unrolled'].flatMap((i) =>
  ['ft', 'all', 'unrolled'].map((d) => `double_merge_${i}_${d}`),
);

/** Method groups a study file names as `@group`. */
export const METHOD_GROUPS: Readonly<Record<string, () => string[]>> = {
  named: () => [...NAMED_METHODS],
  'double-merges': () => [...DOUBLE_MERGES],
  'full-grid': fullProtocolGrid,
};

/**
 * The techniques of fomo_in_flux's continual_lib/merge.py (create_merge_instance) with the settings its
 * configs give merge-all (configs/config.yaml, continual.offline_merge: TIES, DARE-TIES and
 * Breadcrumbs-TIES prune_percentile 0.2 over the flattened model, Breadcrumbs top_prune_percentile 0.01,
 * scaling_factor 1, merge_function mean) and task arithmetic's scaling_factor 0.3 on the task-vector sum
 * (configs/experiment/offline_merge_task_arithmetic_dataset_incremental.yaml; tv_merge sums). TALL masks
 * need per-task masks and are left out. docs/studies.md has the table.
 */
export const OFFICIAL_TECHNIQUES: readonly TechniqueChoice[] = [
  { name: 'weighted-average' },
  { name: 'task-arithmetic', params: { lambda: 0.3, normalize: false } },
  { name: 'ties', params: { density: 0.8, scope: 'model', tieRule: 'majority', weightsAt: 'after' } },
  { name: 'dare-ties', params: { p: 0.2, mask: 'exact', tieRule: 'majority', weightsAt: 'after' } },
  {
    name: 'breadcrumbs-ties',
    params: { p: 0.2, gamma: 0.01, granularity: 'row', tieRule: 'majority', weightsAt: 'after' },
  },
  { name: 'magmax', params: { ties: 'earlier' } },
  { name: 'model-stock' },
  { name: 'slerp' },
  { name: 'random-selection' },
];

/**
 * Variants outside the main grid's settings: the registry's milder sparsity, DARE with linear merging
 * (not in fomo_in_flux), task arithmetic scaling the weighted MEAN task vector, and the official EMA
 * config's λ 0.1 on the unweighted sum.
 */
export const VARIANT_TECHNIQUES: readonly TechniqueChoice[] = [
  { name: 'task-arithmetic', label: 'task-arithmetic:mean', params: { lambda: 0.3 } },
  // ema_paint_task_arithmetic.yaml: λ 0.1 on the unweighted sum (TaskArithmetic takes no weights).
  {
    name: 'task-arithmetic',
    label: 'task-arithmetic:unweighted:0.1',
    params: { lambda: 0.1, normalize: false, weighted: false },
  },
  { name: 'ties', label: 'ties:density:0.5', params: { density: 0.5 } },
  {
    name: 'ties',
    label: 'ties:density:0.3',
    params: { density: 0.3, scope: 'model', tieRule: 'majority', weightsAt: 'after' },
  },
  { name: 'dare-linear', params: { p: 0.3 } },
  { name: 'breadcrumbs', params: { p: 0.5, gamma: 0.01 } },
  { name: 'magmax' },
];

export const TECHNIQUE_GROUPS: Readonly<Record<string, readonly TechniqueChoice[]>> = {
  official: OFFICIAL_TECHNIQUES,
  variants: VARIANT_TECHNIQUES,
};
