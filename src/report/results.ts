/** The rows of a results folder (docs/results-format.md), typed. */
import { BASELINES } from '../time/baselines.js';

export interface RunRow {
  run_id: string;
  study: string;
  method: string;
  init: string;
  deploy: string;
  technique: string;
  seed: number;
  T: number;
  /** Blank in the CSV (null here) when undefined, e.g. A_ZS and GM for a stream without zero-shot tasks. */
  a_ka: number | null;
  a_zs: number | null;
  gm: number | null;
  forgetting: number | null;
  bwt: number | null;
  fwt: number | null;
  train_steps: number | null;
  merge_seconds: number | null;
  bytes_stored: number | null;
  wall_seconds: number | null;
  /** `param_<name>` columns, keyed by the full column name, values as written. */
  params: Record<string, string>;
}

export interface StepRow {
  run_id: string;
  step: number;
  a_ka: number | null;
  a_zs: number | null;
  gm: number | null;
  merge_seconds: number | null;
}

export interface MatrixRow {
  run_id: string;
  step: number;
  task_index: number;
  task_id: string;
  role: string;
  score: number;
}

/** One row of results/bench/merge.csv. `label` is the technique or deploy protocol the row measures. */
export interface BenchRow {
  suite: string;
  technique: string;
  protocol: string;
  label: string;
  experts: number;
  params: number;
  merge_seconds: number;
  ratio_to_copy: number | null;
}

export interface ResultsData {
  dir: string;
  runs: RunRow[];
  steps: StepRow[];
  matrix: MatrixRow[];
  bench: BenchRow[];
  /** config.json as parsed, or null when the folder has none. */
  config: unknown;
  findings: string | null;
  /** Every file read, relative to `dir` where inside it. */
  sources: string[];
}

export const BASELINE_METHODS: readonly string[] = BASELINES;

export function isBaseline(run: Pick<RunRow, 'method' | 'init' | 'deploy'>): boolean {
  return BASELINE_METHODS.includes(run.method) || (run.init === '-' && run.deploy === '-');
}
