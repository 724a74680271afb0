import type { SyntheticConfig } from '../synthetic/config.js';
import type { Baseline } from '../time/baselines.js';
import type { ReplayMix } from '../time/types.js';

export { BASELINES } from '../time/baselines.js';
export type BaselineName = Baseline;

/** A merge technique as a study names it: a registry name and its parameters. */
export interface TechniqueChoice {
  readonly name: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** One point of a study's stream grid: settings layered over the study's stream, and the replay mix. */
export interface StudySetting {
  /** Short, unique within the study; part of every run id. */
  readonly label: string;
  readonly stream?: Partial<SyntheticConfig>;
  readonly replay?: ReplayMix;
}

/** The paper's findings a study can test (see src/study/findings.ts). */
export type FindingId = 'offline-vs-continual' | 'time-aware-offline' | 'init-deploy-over-technique' | 'best-in-time' | 'scaling';

/** A study: the grid settings x methods x techniques x seeds, plus baselines, on synthetic streams. */
export interface Study {
  readonly name: string;
  readonly description: string;
  /** Stream and training settings shared by every run (defaults: DEFAULT_SYNTHETIC). */
  readonly stream: Partial<SyntheticConfig>;
  /** Default: one setting labelled "default". */
  readonly settings?: readonly StudySetting[];
  /** Preset names (finetune, offline_merge, ema_paint, ...) or `<init>+<deploy>` strings. */
  readonly methods: readonly string[];
  readonly techniques: readonly TechniqueChoice[];
  /** World seeds: each gives its own world, θ0 and training noise. */
  readonly seeds: readonly number[];
  readonly baselines: readonly BaselineName[];
  /** Replay mix for every setting that does not give its own (default: no replay). */
  readonly replay?: ReplayMix;
  /** Mixed into every run's seed (default 0). */
  readonly seed?: number;
  readonly findings: readonly FindingId[];
  /** What `--quick` changes: a smaller version for tests and CI. */
  readonly quick?: Partial<Pick<Study, 'stream' | 'settings' | 'methods' | 'techniques' | 'seeds' | 'baselines'>>;
}

/** One run of an expanded study; plain data so it can cross to a worker thread. */
export interface RunSpec {
  readonly runId: string;
  /** Position in the full expanded list (shards and output order use it). */
  readonly index: number;
  readonly study: string;
  readonly setting: string;
  readonly stream: SyntheticConfig;
  readonly replay: ReplayMix;
  readonly kind: 'method' | 'baseline';
  /** Method name as given (or the baseline name). */
  readonly method: string;
  /** '-' for runs that merge nothing. */
  readonly technique: string;
  readonly techniqueParams?: Readonly<Record<string, unknown>>;
  /** The grid seed (world seed). */
  readonly seed: number;
  /** The TIME loop's seed; a function of the study seed, setting and grid seed only. */
  readonly runSeed: number;
  /** Written as param_<name> columns. */
  readonly params: Readonly<Record<string, string | number | boolean>>;
}

/** A grid point left out, and why. */
export interface SkippedRun {
  readonly setting: string;
  readonly method: string;
  readonly technique: string;
  readonly reason: string;
}
