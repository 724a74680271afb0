import { fail } from '../params/errors.js';
import { DEFAULT_LAYER_PATTERN, layerIndex } from './lines.js';
import type { ToolkitValue } from './types.js';

/**
 * mergekit's parameter settings, evaluated per tensor as mergekit's evaluate_setting does:
 * - a value (number, boolean, string) is itself;
 * - a list of numbers is a gradient over the layers: at position t in [0, 1] it interpolates linearly
 *   between the two nearest entries (t = l/(L-1) for layer l of L; tensors outside every layer get
 *   t = 0, as mergekit plans embeddings and final norms);
 * - a list of other values picks entry int(t·(len-1));
 * - a list of { filter, value } takes the first entry whose filter is absent, "*", or a substring of
 *   the tensor name, and evaluates its value; when none matches the setting is unset for that tensor
 *   (the next level, or the default, applies).
 */
export type Setting = unknown;

/** Whether a setting can differ between tensors (a gradient or a filter list). */
export function varies(setting: Setting): boolean {
  return Array.isArray(setting);
}

// A number must be finite: YAML's .inf and .nan are no setting (a density of .inf read as "keep all").
const isScalar = (v: unknown): v is ToolkitValue =>
  (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || typeof v === 'string';
const isCondition = (v: unknown): v is { filter?: unknown; value: unknown } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && 'value' in v;

/** Checks a setting's shape; a CONFIG error naming `where` otherwise. */
export function checkSetting(setting: Setting, where: string): void {
  if (setting === null || setting === undefined || isScalar(setting)) return;
  if (typeof setting === 'number') fail('CONFIG', `${where}: must be a finite number, got ${setting}`);
  if (!Array.isArray(setting)) {
    fail(
      'CONFIG',
      `${where}: must be a value, a list of values (a gradient over layers) or a list of { filter, value }; got ${JSON.stringify(setting)}`,
    );
  }
  if (setting.length === 0) fail('CONFIG', `${where}: an empty list is not a setting`);
  if (setting.every(isScalar)) return;
  setting.forEach((c, i) => {
    if (!isCondition(c))
      fail(
        'CONFIG',
        `${where}[${i}]: a list mixing values and conditions; each entry must be { filter, value } (got ${JSON.stringify(c)})`,
      );
    for (const key of Object.keys(c))
      if (key !== 'filter' && key !== 'value')
        fail('CONFIG', `${where}[${i}]: unknown key "${key}" (known: filter, value)`);
    if (c.filter !== undefined && c.filter !== null && typeof c.filter !== 'string')
      fail('CONFIG', `${where}[${i}].filter must be a string, got ${JSON.stringify(c.filter)}`);
    checkSetting(c.value, `${where}[${i}].value`);
  });
}

/** The setting's value for one tensor (undefined: unset there). */
export function evaluateSetting(setting: Setting, name: string, t: number): ToolkitValue | undefined {
  if (setting === null || setting === undefined) return undefined;
  if (isScalar(setting)) return setting;
  const list = setting as unknown[];
  if (list.every((v) => typeof v === 'number')) {
    const xs = list as number[];
    const scaled = t * (xs.length - 1);
    const i0 = Math.floor(scaled);
    const i1 = Math.min(xs.length - 1, i0 + 1);
    const frac = scaled - i0;
    return (1 - frac) * xs[i0] + frac * xs[i1];
  }
  if (list.every(isScalar)) return list[Math.floor(t * (list.length - 1))] as ToolkitValue;
  for (const c of list as { filter?: string | null; value: unknown }[]) {
    if (c.filter === undefined || c.filter === null || c.filter === '*' || (name !== '' && name.includes(c.filter)))
      return evaluateSetting(c.value, name, t);
  }
  return undefined;
}

/** Every value a setting can take at a gradient's entries and a filter list's values (for checking them before a merge). */
export function settingAnchors(setting: Setting): ToolkitValue[] {
  if (setting === null || setting === undefined) return [];
  if (isScalar(setting)) return [setting];
  const list = setting as unknown[];
  if (list.every(isScalar)) return list as ToolkitValue[];
  return (list as { value: unknown }[]).flatMap((c) => settingAnchors(c.value));
}

/**
 * Each tensor's gradient position: t = l/(L-1) for layer l (from the layer index in its name: open_clip
 * `resblocks.N`, Hugging Face `layers.N`, `layer.N`, `h.N`, `blocks.N`), t = 1 when there is one layer,
 * and t = 0 outside every layer.
 */
export function gradientPositions(names: readonly string[]): (name: string) => number {
  const re = new RegExp(DEFAULT_LAYER_PATTERN);
  let max = -1;
  for (const n of names) max = Math.max(max, layerIndex(n, re) ?? -1);
  const L = max + 1;
  return (name) => {
    const l = layerIndex(name, re);
    if (l === undefined) return 0;
    return L > 1 ? l / (L - 1) : 1;
  };
}
