/** The TIME pipeline's public API: protocols, methods, the five-stage loop, metrics, stores, results. */
export * from './types.js';
export {
  BASE_WEIGHTINGS,
  TEMPORAL_WEIGHTINGS,
  INIT_PROTOCOLS,
  INIT_PROTOCOL_DEFS,
  DEPLOY_KINDS,
  DEPLOY_PROTOCOLS,
  DEFAULT_BETA,
  DEFAULT_ALPHA,
  temporalWeights,
  rawTemporalWeight,
  isPrefixStable,
  type BaseWeighting,
  type TemporalWeighting,
  type InitProtocol,
  type InitOptions,
  type DeployProtocol,
  type DeployKind,
  type EmaSeed,
  type DeployProtocolDef,
  type InitProtocolDef,
} from './protocols.js';
export {
  PRESETS,
  DEFAULT_MERGE,
  checkMethod,
  parseMethod,
  parseDeploy,
  methodLabel,
  initLabel,
  deployLabel,
  resolvedInitOptions,
  initStart,
  sameRunKey,
  methodMerges,
  type Method,
} from './method.js';
export {
  runTime,
  runBaseline,
  isBaseline,
  BASELINES,
  trainSeed,
  STAGES,
  type Stage,
  type TimeEvent,
  type RunConfig,
  type TimeConfig,
  type Baseline,
} from './pipeline.js';
export type { RunRecord, StepRecord, RunTotals } from './record.js';
export { stepMetrics, continualMetrics, type StepMetrics, type FinalMetrics } from './metrics.js';
export { MemoryStore, type CheckpointStore, type OpenedExpert } from './store.js';
export { DiskStore } from './disk-store.js';
export { createStore, type StoreSpec } from './store-factory.js';
export { makeTracker, trackerKey, MergeAllTracker, type Tracker } from './trackers.js';
export {
  writeResults,
  runsRows,
  stepsRows,
  matrixRows,
  toCsv,
  resultFileName,
  RUNS_COLUMNS,
  STEPS_COLUMNS,
  MATRIX_COLUMNS,
  type ResultRun,
  type StudyResults,
} from './results.js';
export {
  ExternalTrainer,
  ExternalEvaluator,
  TRAINER_PLACEHOLDERS,
  EVALUATOR_PLACEHOLDERS,
  splitCommand,
  fillTemplate,
  parseScores,
  runCommand,
  type ExternalTrainerOptions,
  type ExternalEvaluatorOptions,
  type CommandResult,
} from './external.js';
