import type { Tracker, TrackerContext } from '../trackers.js';
import type { DeployProtocol } from './registry.js';
import type { TemporalWeighting } from './weighting.js';

/** Where an EMA starts: e_0 = θ0 (ema_paint), or e_1 = θs_1 (the double_merge presets). */
export type EmaSeed = 'base' | 'first';

/** Options of the init protocols that merge (merge-all, ema, paint); the protocols fill in defaults. */
export interface InitOptions {
  /** merge-all init: temporal weighting of θs_1..θs_{t-1}. */
  readonly weighting?: TemporalWeighting;
  /** merge-all init: include θ0 as the oldest model. */
  readonly includeBase?: boolean;
  /** ema init: weight of the newest expert. */
  readonly beta?: number;
  readonly seed?: EmaSeed;
  /** paint init: weight of the last expert (θ0 gets 1 - alpha); opcm and dop init: their alpha. */
  readonly alpha?: number;
  /** dop init: MGDA weights (true) or the fixed alpha. */
  readonly mgda?: boolean;
}

/**
 * What one step of a protocol merges: nothing, a pair (the new expert with a running model or θ0), or
 * every expert so far (θ0 too with with-base), which a technique with a model limit may not manage.
 */
export type MergeScope = 'nothing' | 'pair' | 'all';

/**
 * A deploy protocol: the model deployed after step t, computed by a tracker that follows the experts.
 * Every deploy protocol also serves as the init protocol of the same name (training starts from the
 * model the tracker holds before step t), so it says how its options sit in Method.initOptions.
 */
export interface DeployProtocolDef<P extends { readonly kind: string }> {
  readonly kind: P['kind'];
  /** One line for help texts and docs. */
  readonly summary: string;
  /** Its options as a method name spells them after the kind ('' when it takes none). */
  readonly syntax: string;
  /** Spellings with options, e.g. 'ema:0.3' (the registry test parses, labels and runs each). */
  readonly examples: readonly string[];
  readonly merges: MergeScope;
  /** From the options after `<kind>:` (split at colons); `what` names the method and protocol for errors. */
  parse(options: readonly string[], what: string): P;
  /** Validates a protocol built in code; every problem is a CONFIG error. */
  check(p: P): void;
  /** The name parse reads back, defaults left out. */
  label(p: P): string;
  /** Equal keys = the same computation, so init and deploy may share one tracker. */
  key(p: P): string;
  tracker(p: P, ctx: TrackerContext): Tracker;
  /** The protocol's options as Method.initOptions holds them. */
  toInitOptions(p: P): InitOptions;
  /** The protocol from Method.initOptions, defaults filled in and values checked. */
  fromInitOptions(o: InitOptions): P;
}

/** Where training starts at step t: θ0, the model deployed after step t-1, or a tracker's model. */
export type InitStart = 'base' | 'deployed' | DeployProtocol;

/** An init protocol: the model step t trains from. */
export interface InitProtocolDef<N extends string = string> {
  readonly name: N;
  readonly summary: string;
  readonly syntax: string;
  readonly merges: MergeScope;
  /** Options from the text after `<name>:`; undefined for a protocol without options. */
  parse(options: readonly string[], method: string): InitOptions | undefined;
  /** Options with every default filled in and checked, for comparing, labelling and resume fingerprints. */
  resolve(o: InitOptions): InitOptions;
  /** The name parse reads back, from resolved options. */
  label(o: InitOptions): string;
  /** Where training starts, from resolved options. */
  start(o: InitOptions): InitStart;
}
