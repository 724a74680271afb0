import { fail } from '../params/errors.js';
import { didYouMean } from '../params/did-you-mean.js';
import type { MergeSpec } from '../merge/engine.js';
import {
  DEFAULT_ALPHA,
  DEFAULT_BETA,
  INIT_PROTOCOLS,
  checkAlpha,
  checkBeta,
  checkWeighting,
  type DeployProtocol,
  type EmaSeed,
  type InitOptions,
  type InitProtocol,
  type TemporalWeighting,
} from './protocols.js';

/** One TIME method: how training starts at each step, what gets deployed, and the merge both use. */
export interface Method {
  readonly init: InitProtocol;
  readonly initOptions?: InitOptions;
  readonly deploy: DeployProtocol;
  /** Technique, its parameters and seed. Per-expert weights come from the protocols, not from here. */
  readonly merge: MergeSpec;
}

export const DEFAULT_MERGE: MergeSpec = { technique: 'weighted-average' };

const MERGE_ALL: DeployProtocol = { kind: 'merge-all', includeBase: false, weighting: 'uniform' };
const EMA_BASE: DeployProtocol = { kind: 'ema', beta: DEFAULT_BETA, seed: 'base' };
const EMA_FIRST: DeployProtocol = { kind: 'ema', beta: DEFAULT_BETA, seed: 'first' };

interface Preset {
  readonly init: InitProtocol;
  readonly initOptions?: InitOptions;
  readonly deploy: DeployProtocol;
}

/**
 * The method names of the official fomo_in_flux code (continual_lib). In double_merge_{init}_{deploy}
 * the parts read: zs = θ0, ft = the last expert, all = merge of all experts, unrolled = the EMA
 * (unrolled recursive merge) seeded with the first expert.
 */
const DM_INIT: Record<string, Preset['init'] | [InitProtocol, InitOptions]> = {
  zs: 'base',
  ft: 'last',
  all: 'merge-all',
  unrolled: ['ema', { beta: DEFAULT_BETA, seed: 'first' }],
};
const DM_DEPLOY: Record<string, DeployProtocol> = { ft: { kind: 'last' }, all: MERGE_ALL, unrolled: EMA_FIRST };

export const PRESETS: ReadonlyMap<string, Preset> = (() => {
  const m = new Map<string, Preset>([
    ['finetune', { init: 'last', deploy: { kind: 'last' } }],
    ['offline_merge', { init: 'base', deploy: MERGE_ALL }],
    ['zs_paint', { init: 'base', deploy: EMA_BASE }],
    ['ft_paint', { init: 'paint', deploy: { kind: 'paint' } }],
    ['ema_paint', { init: 'ema', initOptions: { beta: DEFAULT_BETA, seed: 'base' }, deploy: EMA_BASE }],
  ]);
  for (const [ik, iv] of Object.entries(DM_INIT)) {
    for (const [dk, dv] of Object.entries(DM_DEPLOY)) {
      const [init, initOptions] = Array.isArray(iv) ? iv : [iv, undefined];
      m.set(`double_merge_${ik}_${dk}`, { init, initOptions, deploy: dv });
    }
  }
  return m;
})();

/** Other spellings accepted by parseMethod. */
const ALIASES: Record<string, string> = { 'best-in-time': 'ema_paint', best_in_time: 'ema_paint', 'offline-merge': 'offline_merge' };

/**
 * A preset name (finetune, offline_merge, zs_paint, ft_paint, ema_paint / best-in-time,
 * double_merge_{zs,ft,all,unrolled}_{ft,all,unrolled}) or `<init>+<deploy>` with options after colons:
 *   init:   base | last | deployed | merge-all[:<weighting>][:with-base] | ema[:<beta>][:base|first] | paint[:<alpha>]
 *   deploy: last | merge-all[:<weighting>][:with-base] | ema[:<beta>][:base|first] | paint[:<alpha>]
 * e.g. `ema+merge-all:linear`, `last+ema:0.3:first`.
 */
export function parseMethod(name: string, merge: MergeSpec = DEFAULT_MERGE): Method {
  const key = ALIASES[name] ?? name;
  const preset = PRESETS.get(key);
  if (preset) return { ...preset, merge };
  const parts = name.split('+');
  if (parts.length !== 2) {
    fail('CONFIG', `method "${name}"${didYouMean(name, [...PRESETS.keys(), ...Object.keys(ALIASES)])}: expected a preset (${[...PRESETS.keys()].slice(0, 5).join(', ')}, double_merge_*) or <init>+<deploy>`);
  }
  const [init, initOptions] = parseInit(parts[0], name);
  return { init, initOptions, deploy: parseDeploy(parts[1], name), merge };
}

function parseInit(text: string, method: string): [InitProtocol, InitOptions | undefined] {
  const [kind, ...opts] = text.split(':');
  if (!(INIT_PROTOCOLS as readonly string[]).includes(kind)) {
    fail('CONFIG', `method "${method}": unknown init protocol "${kind}"${didYouMean(kind, INIT_PROTOCOLS)} (known: ${INIT_PROTOCOLS.join(', ')})`);
  }
  if (kind === 'merge-all' || kind === 'ema' || kind === 'paint') {
    const d = parseDeploy(text, method);
    if (d.kind === 'merge-all') return ['merge-all', { weighting: d.weighting, includeBase: d.includeBase }];
    if (d.kind === 'ema') return ['ema', { beta: d.beta, seed: d.seed }];
    if (d.kind === 'paint') return ['paint', { alpha: d.alpha ?? DEFAULT_ALPHA }];
  }
  if (opts.length) fail('CONFIG', `method "${method}": init protocol ${kind} takes no options, got "${opts.join(':')}"`);
  return [kind as InitProtocol, undefined];
}

function parseNumber(text: string, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) fail('CONFIG', `${what}: "${text}" is not a number`);
  return v;
}

export function parseDeploy(text: string, method = text): DeployProtocol {
  const [kind, ...opts] = text.split(':');
  const what = `method "${method}", protocol ${kind}`;
  switch (kind) {
    case 'last':
      if (opts.length) fail('CONFIG', `${what} takes no options, got "${opts.join(':')}"`);
      return { kind: 'last' };
    case 'merge-all': {
      let weighting: TemporalWeighting = 'uniform';
      let includeBase = false;
      for (const o of opts) {
        if (o === 'with-base') includeBase = true;
        else if (o === 'no-base') includeBase = false;
        else weighting = checkWeighting(o);
      }
      return { kind: 'merge-all', includeBase, weighting };
    }
    case 'ema': {
      let beta = DEFAULT_BETA;
      let seed: EmaSeed = 'base';
      for (const o of opts) {
        if (o === 'base' || o === 'first') seed = o;
        else beta = checkBeta(parseNumber(o, what), what);
      }
      return { kind: 'ema', beta, seed };
    }
    case 'paint': {
      if (opts.length > 1) fail('CONFIG', `${what} takes one option (alpha), got "${opts.join(':')}"`);
      return opts.length ? { kind: 'paint', alpha: checkAlpha(parseNumber(opts[0], what), what) } : { kind: 'paint' };
    }
    default:
      return fail('CONFIG', `method "${method}": unknown deploy protocol "${kind}"${didYouMean(kind, ['last', 'merge-all', 'ema', 'paint'])} (known: last, merge-all, ema, paint)`);
  }
}

/** Init options with every default filled in, for comparing and labelling. */
export function resolvedInitOptions(m: Pick<Method, 'init' | 'initOptions'>): InitOptions {
  const o = m.initOptions ?? {};
  switch (m.init) {
    case 'merge-all':
      return { weighting: checkWeighting(o.weighting ?? 'uniform'), includeBase: o.includeBase ?? false };
    case 'ema':
      return { beta: checkBeta(o.beta ?? DEFAULT_BETA, 'init ema'), seed: o.seed ?? 'base' };
    case 'paint':
      return { alpha: checkAlpha(o.alpha ?? DEFAULT_ALPHA, 'init paint') };
    default:
      return {};
  }
}

export function deployLabel(d: DeployProtocol): string {
  switch (d.kind) {
    case 'last':
      return 'last';
    case 'merge-all':
      return ['merge-all', ...(d.weighting !== 'uniform' ? [d.weighting] : []), ...(d.includeBase ? ['with-base'] : [])].join(':');
    case 'ema':
      return `ema:${d.beta}${d.seed === 'first' ? ':first' : ''}`;
    case 'paint':
      return d.alpha === undefined || d.alpha === DEFAULT_ALPHA ? 'paint' : `paint:${d.alpha}`;
  }
}

export function initLabel(m: Pick<Method, 'init' | 'initOptions'>): string {
  const o = resolvedInitOptions(m);
  switch (m.init) {
    case 'merge-all':
      return deployLabel({ kind: 'merge-all', weighting: o.weighting!, includeBase: o.includeBase! });
    case 'ema':
      return deployLabel({ kind: 'ema', beta: o.beta!, seed: o.seed! });
    case 'paint':
      return deployLabel({ kind: 'paint', alpha: o.alpha });
    default:
      return m.init;
  }
}

/** The preset name when the init/deploy pair is one, else `<init>+<deploy>` (parseMethod reads both back). */
export function methodLabel(m: Method): string {
  const label = `${initLabel(m)}+${deployLabel(m.deploy)}`;
  for (const [name, p] of PRESETS) {
    if (`${initLabel(p)}+${deployLabel(p.deploy)}` === label) return name;
  }
  return label;
}

/** Validates a Method built in code (parseMethod's output always passes); every problem is a CONFIG error. */
export function checkMethod(m: Method): void {
  if (!(INIT_PROTOCOLS as readonly string[]).includes(m.init)) fail('CONFIG', `unknown init protocol "${m.init}" (known: ${INIT_PROTOCOLS.join(', ')})`);
  resolvedInitOptions(m);
  const d = m.deploy;
  switch (d?.kind) {
    case 'last':
      break;
    case 'merge-all':
      checkWeighting(d.weighting);
      if (typeof d.includeBase !== 'boolean') fail('CONFIG', `deploy merge-all: includeBase must be true or false, got ${JSON.stringify(d.includeBase)}`);
      break;
    case 'ema':
      checkBeta(d.beta, 'deploy ema');
      if (d.seed !== 'base' && d.seed !== 'first') fail('CONFIG', `deploy ema: seed must be "base" or "first", got ${JSON.stringify(d.seed)}`);
      break;
    case 'paint':
      if (d.alpha !== undefined) checkAlpha(d.alpha, 'deploy paint');
      break;
    default:
      fail('CONFIG', `unknown deploy protocol ${JSON.stringify(d)} (known: last, merge-all, ema, paint)`);
  }
  if (m.merge.weights !== undefined) {
    fail('CONFIG', `method ${methodLabel(m)}: merge.weights is set by the protocols (temporal weights, EMA β, paint α); leave it out`);
  }
}
