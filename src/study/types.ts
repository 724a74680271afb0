import type { SyntheticConfig } from '../synthetic/config.js';
import type { Baseline } from '../time/baselines.js';
import type { ReplayMix } from '../time/types.js';

/**
 * The replay mix of fomo_in_flux's released configs (configs/experiment/full_finetune.yaml,
 * ema_paint_task_arithmetic.yaml, offline_merge_interpolation_replay.yaml, continualfomo_default.yaml:
 * data_mixture pretraining 0.33, update 0.34, buffer 0.33); `*_noreplay` configs use 0 / 1 / 0.
 */
export const PAPER_REPLAY: ReplayMix = { pretrain: 0.33, current: 0.34, buffer: 0.33 };
/** The oracle's mix (configs/experiment/oracle.yaml: pretraining 0.33, update 0.67, buffer 0). */
export const ORACLE_MIX: ReplayMix = { pretrain: 0.33, current: 0.67, buffer: 0 };

/** A merge technique as a study names it: a registry name and its parameters. */
export interface TechniqueChoice {
  readonly name: string;
  /** How runs name it (default: the name); tells variants of one technique apart. */
  readonly label?: string;
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
export type FindingId =
  | 'offline-vs-continual'
  | 'time-aware-offline'
  | 'init-deploy-over-technique'
  | 'best-in-time'
  | 'scaling'
  | 'continual-merging';

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
  readonly baselines: readonly Baseline[];
  /** Replay mix for every setting that does not give its own (default: PAPER_REPLAY, 0.33 / 0.34 / 0.33). */
  readonly replay?: ReplayMix;
  /** Batch mix of the multitask baseline (default: ORACLE_MIX, 0.33 pretraining / 0.67 task data). */
  readonly multitaskMix?: ReplayMix;
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
  /** The technique's label ('-' for runs that merge nothing). */
  readonly technique: string;
  /** Its registry name, where the label differs. */
  readonly techniqueName?: string;
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
