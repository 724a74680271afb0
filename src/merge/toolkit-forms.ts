import { fail } from '../params/errors.js';
import type { ToolkitForm, ToolkitList, ToolkitValue } from './types.js';

/**
 * Shared shapes of the toolkits' method definitions, for the techniques' `dialects` entries.
 *
 * mergekit's generalized task arithmetic (task_arithmetic, ties, dare_*, breadcrumbs*, della*): global
 * int8_mask (no effect on the values), normalize, rescale (rescale to the L1 norm after sparsifying),
 * lambda; per model weight and density (1 = keep all), gamma for magnitude_outliers, epsilon for
 * della_magprune. The base model is the origin of the task vectors and is skipped when listed under
 * models.
 */
export function mergekitTaskArithmetic(
  method: string,
  defaults: { normalize: boolean; rescale: boolean },
  perModel: Readonly<Record<string, ToolkitValue>>,
  params: (g: Readonly<Record<string, ToolkitValue>>) => Record<string, unknown>,
  expert?: (v: Readonly<Record<string, ToolkitValue>>) => Record<string, number>,
): ToolkitForm {
  return {
    method,
    globals: { normalize: defaults.normalize, rescale: defaults.rescale, lambda: 1 },
    inert: MERGEKIT_INT8_MASK,
    perModel,
    base: 'task-vectors',
    weights: 'free',
    params: (g) => ({ lambda: g.lambda, ...params(g) }),
    expert,
  };
}

/** mergekit's int8_mask: its masks stored as int8 to save memory, which leaves the values as they are. */
export const MERGEKIT_INT8_MASK = {
  int8_mask: 'mergekit stores its masks as int8 to save memory; the merged values are the same',
};

/** mergekit's TIES-style consensus with normalize: the weighted mean of the agreeing values, else their sum. */
export const mergekitDisjoint = (g: Readonly<Record<string, ToolkitValue>>): 'mean' | 'sum' =>
  g.normalize ? 'mean' : 'sum';

/** mergekit's rescale flag: survivors rescaled to the task vector's L1 norm (rescaled_masked_tensor). */
export const mergekitRescale = (g: Readonly<Record<string, ToolkitValue>>): 'l1' | 'none' =>
  g.rescale ? 'l1' : 'none';

/**
 * fomo_in_flux's task-vector merges (continual_lib/merge.py): unweighted over the models, θ0 + scaling_factor·τ.
 * With apply_lines its LiNeS weights take the place of scaling_factor (see `lines`).
 */
export function fomoTaskVector(
  method: string,
  globals: Readonly<Record<string, ToolkitValue>>,
  params: (g: Readonly<Record<string, ToolkitValue>>) => Record<string, unknown>,
): ToolkitForm {
  return {
    method,
    globals: { scaling_factor: 1, ...globals },
    perModel: {},
    base: 'task-vectors',
    weights: 'none',
    params: (g) => ({ lambda: g.scaling_factor, ...params(g) }),
  };
}

/**
 * FusionBench's method configs (tanganke/fusion_bench, config/method/*.yaml; `method=NAME` on its
 * command line): the config's keys are the global parameters, with the yaml's defaults. Its model pool's
 * `_pretrained_` is base_model and the other models are listed under models; FusionBench has no
 * per-model parameters, so a `weight` under a model is refused. `inert` keys (in-place updates,
 * progress bars, save paths) change nothing in the values and are noted.
 */
export function fusionBench(
  method: string,
  form: Partial<Omit<ToolkitForm, 'method' | 'params'>> & Pick<ToolkitForm, 'params'>,
): ToolkitForm {
  return { method, globals: {}, perModel: {}, base: 'task-vectors', weights: 'none', ...form };
}

/** FusionBench's `inplace` (it overwrites the model it loaded rather than a copy). */
export const FUSION_BENCH_INPLACE = {
  inplace: 'FusionBench updates its loaded model in place or a copy; the merged values are the same',
};

/** A FusionBench list that time-merge can only take empty (remove_keys, ignore_keys), with why. */
export function emptyList(lists: Readonly<Record<string, ToolkitList>>, key: string, why: string): void {
  if ((lists[key] ?? []).length > 0)
    fail('CONFIG', `parameters.${key}: only an empty list is supported (${why}); got ${JSON.stringify(lists[key])}`);
}

/** FusionBench TIES's threshold as the kept fraction K: a value above 1 is a percentage (topk_values_mask). */
export const fusionBenchK = (threshold: number): number => (threshold > 1 ? threshold / 100 : threshold);
