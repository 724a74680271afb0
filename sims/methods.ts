import { INIT_PROTOCOLS, DEPLOY_KINDS } from '../src/time/protocols.js';
import { methodLabel, parseMethod } from '../src/time/method.js';
import type { TechniqueChoice } from '../src/study/types.js';

/** A method's name as results show it: the preset name when the init/deploy pair is one. */
export function methodName(spec: string): string {
  return methodLabel(parseMethod(spec));
}

/** Every init protocol x every deploy protocol (defaults for their options), preset names where they exist. */
export function fullProtocolGrid(): string[] {
  return INIT_PROTOCOLS.flatMap((init) => DEPLOY_KINDS.map((deploy) => methodName(`${init}+${deploy}`)));
}

/** The named methods of the official code, and Best-in-TIME among them. */
export const NAMED_METHODS = ['finetune', 'offline_merge', 'zs_paint', 'ft_paint', 'ema_paint'] as const;

/**
 * One entry per technique family. The synthetic models have a few hundred weights per tensor, and the
 * EMA protocols re-merge every step, so the sparsifying techniques run with moderate sparsity (their
 * registry defaults, e.g. DARE p = 0.9 with a 10x rescale, compound into noise over 20 re-merges).
 * Task arithmetic uses λ = 0.3. The protocols pass weights that sum to 1, so this is θ0 + 0.3 · (weighted
 * mean task vector), a weighted average pulled most of the way back to θ0, not a scaled sum; kept so that
 * the committed results stay comparable (results/README.md says what it does to the technique spread).
 */
export const ALL_TECHNIQUES: readonly TechniqueChoice[] = [
  { name: 'weighted-average' },
  { name: 'task-arithmetic', params: { lambda: 0.3 } },
  { name: 'ties', params: { density: 0.5 } },
  { name: 'dare-linear', params: { p: 0.3 } },
  { name: 'breadcrumbs', params: { p: 0.5, gamma: 0.01 } },
  { name: 'magmax' },
  { name: 'model-stock' },
  { name: 'slerp' },
  { name: 'random-selection' },
];

export const WEIGHTED_AVERAGE: readonly TechniqueChoice[] = [{ name: 'weighted-average' }];
