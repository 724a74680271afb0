import { didYouMean } from '../params/did-you-mean.js';
import { fail, TimeMergeError } from '../params/errors.js';
import { checkExpertParams, type TensorSettings } from './engine.js';
import {
  checkSetting,
  evaluateSetting,
  gradientPositions,
  settingAnchors,
  varies,
  type Setting,
} from './toolkit-settings.js';
import {
  DIALECTS,
  type Dialect,
  type MergeTechnique,
  type ToolkitForm,
  type ToolkitList,
  type ToolkitValue,
} from './types.js';

/** A model entry of a toolkit config: its path as written and its parameter settings. */
export interface DialectModel {
  readonly model: string;
  readonly parameters: Readonly<Record<string, Setting>>;
}

/** What a toolkit config means in this project's terms. */
export interface DialectMerge {
  /**
   * Indices into the config's models of the experts, in merge order (the base's copy skipped, ...); an
   * index past the last model is the base model itself (mergekit slerp given only the other model).
   */
  readonly experts: readonly number[];
  /** Whether base_model is the engine's base; else the first expert stands in (its structure only). */
  readonly usesBase: boolean;
  /** The technique's raw parameters, weights and per-model values (the tensor-independent view). */
  readonly params: Record<string, unknown>;
  readonly weights: number[];
  readonly expertParams?: Record<string, number>[];
  /** Present when some setting is a gradient or a filter list. */
  readonly perTensor?: (names: readonly string[]) => (name: string) => TensorSettings | undefined;
  /** One line per key the config sets that changes nothing here (ToolkitForm.inert), saying why. */
  readonly notes: readonly string[];
}

/** A technique's forms in one toolkit (none, one, or several: FusionBench's dare/task_arithmetic and dare/simple_average). */
export function toolkitForms(technique: MergeTechnique<any>, dialect: Dialect): readonly ToolkitForm[] {
  const forms = technique.dialects?.[dialect];
  if (forms === undefined) return [];
  return Array.isArray(forms) ? forms : [forms as ToolkitForm];
}

/** Every method name a toolkit's configs may give, in registry order. */
export function toolkitMethods(techniques: readonly MergeTechnique<any>[], dialect: Dialect): string[] {
  return techniques.flatMap((t) => toolkitForms(t, dialect).flatMap((f) => [f.method, ...(f.aliases ?? [])]));
}

/**
 * Where `key` is not a parameter of this technique as read here but is one in other toolkits' forms of
 * it (FusionBench's and fomo_in_flux's `scaling_factor` for `lambda`), the hint naming each toolkit.
 */
export function otherToolkitHint(technique: MergeTechnique<any>, key: string, reading: Dialect | undefined): string {
  const having: string[] = [];
  for (const dialect of DIALECTS) {
    if (dialect === reading) continue;
    for (const form of toolkitForms(technique, dialect)) {
      const keys = [
        ...Object.keys(form.globals),
        ...Object.keys(form.perModel),
        ...Object.keys(form.lists ?? {}),
        ...Object.keys(form.inert ?? {}),
      ];
      if (keys.includes(key)) {
        having.push(`"toolkit: ${dialect}" (${dialect} ${form.method})`);
        break;
      }
    }
  }
  if (having.length === 0) return '';
  return `; "${key}" is another toolkit's name: add ${having.join(' or ')} to read the config as that toolkit does`;
}

/** The technique a toolkit calls `method`, with its form; undefined when the toolkit has no such method. */
export function findToolkitForm(
  techniques: readonly MergeTechnique<any>[],
  dialect: Dialect,
  method: string,
): { technique: MergeTechnique<any>; form: ToolkitForm } | undefined {
  for (const technique of techniques) {
    for (const form of toolkitForms(technique, dialect))
      if (form.method === method || form.aliases?.includes(method)) return { technique, form };
  }
  return undefined;
}

/**
 * Reads a toolkit config's parameters as the toolkit does. Top-level keys are the method's global
 * parameters, fallbacks for its per-model ones, or (beyond the toolkit's) this technique's own
 * parameters; model keys are its weight and per-model parameters. `sameModel(i)` says whether
 * models[i] is the base model (mergekit skips it for task-vector methods).
 */
export function readDialect(
  dialect: Dialect,
  technique: MergeTechnique<any>,
  form: ToolkitForm,
  top: Readonly<Record<string, Setting>>,
  listed: readonly DialectModel[],
  base: string | undefined,
  sameAsBase: (i: number) => boolean,
  where: string,
): DialectMerge {
  const hasBase = base !== undefined;
  // mergekit adds the base model when a method that interpolates it is not given it under models.
  const addBase =
    (form.base === 'first-endpoint' || form.base === 'extra-model') &&
    base !== undefined &&
    !listed.some((_, i) => sameAsBase(i));
  const models = addBase ? [...listed, { model: base, parameters: {} }] : listed;
  const isBase = (i: number) => i >= listed.length || sameAsBase(i);
  const label = `${dialect} ${form.method}`;
  const native = technique.params.map((d) => d.name);
  const perModelKeys = [...(form.weights === 'none' ? [] : ['weight']), ...Object.keys(form.perModel)];
  const listKeys = Object.keys(form.lists ?? {});
  const inert = form.inert ?? {};
  const globalKeys = [...Object.keys(form.globals), ...listKeys, ...Object.keys(inert)];
  const known = [...globalKeys, ...perModelKeys, ...native.filter((n) => !globalKeys.includes(n)), 'lines'];
  const lists: Record<string, ToolkitList> = {};
  const notes: string[] = [];
  for (const [key, s] of Object.entries(top)) {
    if (!known.includes(key))
      fail(
        'CONFIG',
        `${where}: parameters: "${key}" is not a parameter of ${label}${didYouMean(key, known)} (${label}: ${[...globalKeys, ...perModelKeys].join(', ')}; also ${technique.name}'s own: ${native.join(', ')})${otherToolkitHint(technique, key, dialect)}`,
      );
    if (key in inert) notes.push(`${where}: parameters.${key}: ${inert[key]}`);
    else if (listKeys.includes(key)) lists[key] = checkList(s, `${where}: parameters.${key}`);
    else if (key !== 'lines') checkSetting(s, `${where}: parameters.${key}`);
  }
  for (const [key, d] of Object.entries(form.lists ?? {})) {
    if (lists[key] !== undefined) continue;
    if (d === undefined) fail('CONFIG', `${where}: ${label} needs parameters.${key} (a list)`);
    lists[key] = d;
  }
  if (form.weights === 'unused') {
    const given = models.flatMap((m, i) => (m.parameters.weight !== undefined ? [`models[${i}]`] : []));
    if (given.length > 0 || top.weight !== undefined)
      notes.push(
        `${where}: ${[...given, ...(top.weight !== undefined ? ['parameters'] : [])].join(', ')}: weight: ${label} reads no per-model weights; they change nothing`,
      );
  }
  if (form.weights === 'none') {
    const given = models.findIndex((m) => m.parameters.weight !== undefined);
    if (given >= 0 || top.weight !== undefined) {
      const how = form.weightsOf
        ? 'its weights are set once, under the top-level parameters'
        : 'it merges every model alike';
      fail(
        'CONFIG',
        `${where}: ${given >= 0 ? `models[${given}]` : 'parameters'}: ${label} takes no per-model weights (${how})`,
      );
    }
  }

  models.forEach((m, i) => {
    for (const [key, s] of Object.entries(m.parameters)) {
      const ok = perModelKeys.includes(key) || technique.facts.perModel.includes(key);
      if (!ok) {
        const hint =
          globalKeys.includes(key) || native.includes(key)
            ? `; ${key} is set once for the merge, under the top-level parameters`
            : '';
        fail(
          'CONFIG',
          `${where}: models[${i}] (${m.model}).parameters: "${key}" is not a per-model parameter of ${label}${didYouMean(key, perModelKeys)} (per-model: ${perModelKeys.join(', ')})${hint}`,
        );
      }
      checkSetting(s, `${where}: models[${i}] (${m.model}).parameters.${key}`);
    }
  });
  for (const [key, d] of Object.entries(form.globals)) {
    if (d === undefined && top[key] === undefined) fail('CONFIG', `${where}: ${label} needs parameters.${key}`);
  }
  const experts = arrangeExperts(form, models, hasBase, isBase, label, where);
  // The engine's base gives every model's structure; the technique decides whether it reads it.
  const usesBase = hasBase;

  // One evaluation of every setting: for a tensor (name, t), or with `pick` choosing each setting's value.
  type Pick = (s: Setting) => ToolkitValue | undefined;
  const resolveWith = (pick: Pick) => {
    const value = (
      s: Setting,
      key: string,
      expected: ToolkitValue | undefined,
      at: string,
    ): ToolkitValue | undefined => {
      const v = pick(s);
      if (v === undefined) return undefined;
      const type = expected === undefined ? 'number' : typeof expected;
      if (typeof v !== type) fail('CONFIG', `${where}: ${at}${key} must be a ${type}, got ${JSON.stringify(v)}`);
      return v;
    };
    const globals: Record<string, ToolkitValue> = {};
    for (const [key, d] of Object.entries(form.globals)) {
      const v = value(top[key], key, d, 'parameters.') ?? d;
      if (v !== undefined) globals[key] = v;
    }
    const perModel = experts.map((i) => {
      const m = models[i];
      const vals: Record<string, ToolkitValue> = {};
      for (const key of perModelKeys) {
        const d = key === 'weight' ? 1 : form.perModel[key];
        const at = `models[${i}] (${m.model}).parameters.`;
        const v = value(m.parameters[key], key, d, at) ?? value(top[key], key, d, 'parameters.') ?? d;
        if (v !== undefined) vals[key] = v;
      }
      return vals;
    });
    const { weightsOf } = form;
    const weights = weightsOf
      ? prefixed(`${where}: ${label}`, () => weightsOf(globals, lists, experts.length))
      : perModel.map((v) => (v.weight as number | undefined) ?? 1);
    if (form.weights === 'sum-to-one' && Math.abs(weights.reduce((a, b) => a + b, 0) - 1) >= 1e-6) {
      fail(
        'CONFIG',
        `${where}: ${label} needs weights that sum to 1 (as the toolkit checks), got [${weights.join(', ')}]`,
      );
    }
    const params: Record<string, unknown> = {
      ...prefixed(`${where}: ${label}`, () => form.params(globals, { hasBase, weights, lists })),
    };
    for (const key of native) {
      if (top[key] !== undefined && !globalKeys.includes(key) && !perModelKeys.includes(key))
        params[key] = pick(top[key]);
    }
    if (top.lines !== undefined) params.lines = top.lines;
    const each = experts.map((i, k) => {
      const own: Record<string, number> = { ...(form.expert?.(perModel[k]) ?? {}) };
      for (const key of technique.facts.perModel) {
        const s = models[i].parameters[key];
        if (s !== undefined && !perModelKeys.includes(key))
          own[key] = value(s, key, 0, `models[${i}] (${models[i].model}).parameters.`) as number;
      }
      return own;
    });
    // A value every model shares becomes the technique's parameter; values that differ stay per model.
    const keys = [...new Set(each.flatMap((e) => Object.keys(e)))];
    const differing = keys.filter((key) => !each.every((e) => e[key] === each[0][key]));
    for (const key of keys) if (!differing.includes(key)) params[key] = each[0][key];
    const expertParams = differing.length
      ? each.map((e) => Object.fromEntries(differing.map((key) => [key, e[key]])))
      : undefined;
    return { params, weights, expertParams };
  };

  // Resolves the settings with `pick` (a form's own conversions may refuse a value, as a density above 1)
  // and checks the result as the technique's parameters; errors name the file and the toolkit method.
  const check = (pick: Pick, what: string): ReturnType<typeof resolveWith> => {
    try {
      const r = resolveWith(pick);
      const { lines: _lines, ...rest } = r.params;
      technique.parse(rest);
      if (r.expertParams) checkExpertParams(technique, rest, r.expertParams, experts.length);
      return r;
    } catch (err) {
      if (err instanceof TimeMergeError)
        throw new TimeMergeError(err.code, `${where}: ${label}${what}: ${err.message}`, { cause: err });
      throw err;
    }
  };

  const first: Pick = (s) => settingAnchors(s)[0];
  const fixed = check(first, '');
  const settings = [...Object.values(top), ...experts.flatMap((i) => Object.values(models[i].parameters))];
  const varying = settings.filter(varies);
  if (varying.length === 0) return { experts, usesBase, ...fixed, notes };
  // Every value a gradient or filter can take must be valid, before any file is opened.
  for (const s of varying) {
    for (const a of settingAnchors(s))
      check((x) => (x === s ? a : first(x)), ` (with ${JSON.stringify(a)} from ${JSON.stringify(s)})`);
  }
  const perTensor = (names: readonly string[]) => {
    const position = gradientPositions(names);
    return (name: string): TensorSettings => {
      const t = position(name);
      const r = resolveWith((s) => evaluateSetting(s, name, t));
      return { params: withoutLines(r.params), weights: r.weights, expertParams: r.expertParams };
    };
  };
  return { experts, usesBase, ...fixed, perTensor, notes };
}

/** A list-valued parameter (ToolkitForm.lists): numbers or strings, as they are. */
function checkList(v: Setting, where: string): ToolkitList {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' || typeof x === 'string'))
    fail('CONFIG', `${where}: must be a list of numbers or names, got ${JSON.stringify(v)}`);
  return v as ToolkitList;
}

/** f's value; a CONFIG error it raises gets the config and method named first. */
function prefixed<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof TimeMergeError) throw new TimeMergeError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}
function withoutLines(params: Record<string, unknown>): Record<string, unknown> {
  const { lines: _lines, ...rest } = params;
  return rest;
}

/** The experts in merge order, by how the toolkit uses the base model. */
function arrangeExperts(
  form: ToolkitForm,
  models: readonly DialectModel[],
  hasBase: boolean,
  sameAsBase: (i: number) => boolean,
  label: string,
  where: string,
): number[] {
  const all = models.map((_, i) => i);
  if ((form.base === 'task-vectors' || form.base === 'first-endpoint') && !hasBase)
    fail('CONFIG', `${where}: ${label} needs base_model`);
  if (form.base === 'unused' || form.base === 'extra-model') return all;
  const others = all.filter((i) => !(hasBase && sameAsBase(i)));
  if (form.base === 'first-endpoint') {
    // mergekit slerp: the base model is the t = 0 end, whether or not it is listed under models.
    if (others.length !== 1)
      fail(
        'CONFIG',
        `${where}: ${label} interpolates base_model and one other model; got ${others.length} other models`,
      );
    return [all.find((i) => sameAsBase(i)) as number, others[0]];
  }
  if (others.length === 0)
    fail('CONFIG', `${where}: ${label}: every model under models is base_model; nothing to merge`);
  return others;
}
