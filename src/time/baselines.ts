/**
 * The baselines every study can run beside the TIME methods (runBaseline in ./pipeline.ts): θ0 alone,
 * sequential fine-tuning, and one multitask training run. Results, reports and findings tell them apart
 * from merging methods by these names.
 */
export const BASELINES = ['zeroshot', 'continual', 'multitask'] as const;
export type Baseline = (typeof BASELINES)[number];

export function isBaseline(name: string): name is Baseline {
  return (BASELINES as readonly string[]).includes(name);
}
