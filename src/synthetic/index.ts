export {
  CONFLICT_WORLD,
  DEFAULT_SYNTHETIC,
  DEFAULT_WORLD,
  UNDERPARAMETERISED_WORLD,
  WORLDS,
  worldSettings,
  ORDERINGS,
  OPTIMISERS,
  resolveSyntheticConfig,
  type Optimiser,
  type Ordering,
  type SyntheticConfig,
} from './config.js';
export { SyntheticEvaluator } from './evaluator.js';
export {
  IMAGE,
  TEXT,
  accuracy,
  classEmbeddings,
  accumulateGradients,
  trainingFlops,
  initialModel,
  dimsOf,
  type Dims,
} from './model.js';
export { cosineWithWarmup, ParamOptimiser } from './optim.js';
export { pretrainBase, syntheticSetup, type SyntheticSetup } from './setup.js';
export { SyntheticTrainer, batchComposition, trainModel, trainSettings, type TrainSettings } from './trainer.js';
export {
  generateWorld,
  randomRotation,
  restrictRows,
  taskSimilarity,
  type SampleSet,
  type SynthTask,
  type SynthTaskData,
  type SyntheticWorld,
} from './world.js';
export { syntheticDiagnostics, spreadIndices, type SyntheticDiagnostics } from './diagnostics.js';
