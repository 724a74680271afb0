/**
 * The TIME protocols: temporal weightings, option defaults and the registry of init and deploy protocols
 * (./protocols/: one file per protocol, listed in ./protocols/registry.ts).
 */
export {
  BASE_WEIGHTINGS,
  TEMPORAL_WEIGHTINGS,
  rawTemporalWeight,
  temporalWeights,
  isPrefixStable,
  checkWeighting,
  type BaseWeighting,
  type TemporalWeighting,
} from './protocols/weighting.js';
export { DEFAULT_ALPHA, DEFAULT_BETA, checkAlpha, checkBeta } from './protocols/options.js';
export type {
  DeployProtocolDef,
  EmaSeed,
  InitOptions,
  InitProtocolDef,
  InitStart,
  MergeScope,
} from './protocols/types.js';
export {
  DEPLOY_KINDS,
  DEPLOY_PROTOCOLS,
  INIT_PROTOCOLS,
  INIT_PROTOCOL_DEFS,
  deployDef,
  findDeploy,
  findInit,
  initDef,
  mergeCountProblem,
  mostModelsMerged,
  pairMerges,
  type DeployKind,
  type DeployProtocol,
  type InitProtocol,
} from './protocols/registry.js';
