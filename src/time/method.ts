import { fail } from '../params/errors.js';
import { didYouMean } from '../params/did-you-mean.js';
import type { MergeSpec } from '../merge/engine.js';
import {
  DEFAULT_BETA,
  DEPLOY_KINDS,
  deployDef,
  findDeploy,
  initDef,
  pairMerges,
  type DeployProtocol,
  type InitOptions,
  type InitProtocol,
  type InitStart,
} from './protocols.js';
import { own } from '../params/own.js';

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
const ALIASES: Record<string, string> = {
  'best-in-time': 'ema_paint',
  best_in_time: 'ema_paint',
  'offline-merge': 'offline_merge',
};

/**
 * A preset name (finetune, offline_merge, zs_paint, ft_paint, ema_paint / best-in-time,
 * double_merge_{zs,ft,all,unrolled}_{ft,all,unrolled}) or `<init>+<deploy>` with options after colons (each
 * protocol's `syntax` in ./protocols/registry.ts):
 *   init:   base | last | deployed | merge-all[:<weighting>][:with-base] | ema[:<beta>][:base|first] | paint[:<alpha>]
 *   deploy: last | merge-all[:<weighting>][:with-base] | ema[:<beta>][:base|first] | paint[:<alpha>]
 * e.g. `ema+merge-all:linear`, `last+ema:0.3:first`.
 */
export function parseMethod(name: string, merge: MergeSpec = DEFAULT_MERGE): Method {
  const key = own(ALIASES, name) ?? name;
  const preset = PRESETS.get(key);
  if (preset) return { ...preset, merge };
  const parts = name.split('+');
  if (parts.length !== 2) {
    fail(
      'CONFIG',
      `method "${name}"${didYouMean(name, [...PRESETS.keys(), ...Object.keys(ALIASES)])}: expected a preset (${[...PRESETS.keys()].slice(0, 5).join(', ')}, double_merge_*) or <init>+<deploy>`,
    );
  }
  const [init, initOptions] = parseInit(parts[0], name);
  return { init, initOptions, deploy: parseDeploy(parts[1], name), merge };
}

function parseInit(text: string, method: string): [InitProtocol, InitOptions | undefined] {
  const [kind, ...opts] = text.split(':');
  const def = initDef(kind, method);
  return [def.name, def.parse(opts, method)];
}

export function parseDeploy(text: string, method = text): DeployProtocol {
  const [kind, ...opts] = text.split(':');
  return deployDef(kind, method).parse(opts, `method "${method}", protocol ${kind}`);
}

/** Init options with every default filled in, for comparing and labelling. */
export function resolvedInitOptions(m: Pick<Method, 'init' | 'initOptions'>): InitOptions {
  return initDef(m.init).resolve(m.initOptions ?? {});
}

export function deployLabel(d: DeployProtocol): string {
  return deployDef(d.kind).label(d);
}

export function initLabel(m: Pick<Method, 'init' | 'initOptions'>): string {
  return initDef(m.init).label(resolvedInitOptions(m));
}

/** Where training starts at each step (θ0, the deployed model, or a deploy protocol's tracker). */
export function initStart(m: Pick<Method, 'init' | 'initOptions'>): InitStart {
  return initDef(m.init).start(resolvedInitOptions(m));
}

/**
 * A key equal for two methods exactly when they are the same computation: deployed+D starts each step
 * from θo_{t-1} = D's output, which is what init D gives (deployed+last is last+last, ...).
 */
export function sameRunKey(m: Pick<Method, 'init' | 'initOptions' | 'deploy'>): string {
  const d = deployLabel(m.deploy);
  return initStart(m) === 'deployed' ? `${d}+${d}` : `${initLabel(m)}+${d}`;
}

/** Whether the method merges models at all; if not, every technique gives the same run. */
export function methodMerges(m: Pick<Method, 'init' | 'deploy'>): boolean {
  return pairMerges(m.init, m.deploy);
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
  initDef(m.init);
  resolvedInitOptions(m);
  const def = findDeploy(m.deploy?.kind);
  if (!def) fail('CONFIG', `unknown deploy protocol ${JSON.stringify(m.deploy)} (known: ${DEPLOY_KINDS.join(', ')})`);
  def.check(m.deploy);
  if (m.merge.weights !== undefined) {
    fail(
      'CONFIG',
      `method ${methodLabel(m)}: merge.weights is set by the protocols (temporal weights, EMA β, paint α); leave it out`,
    );
  }
}
