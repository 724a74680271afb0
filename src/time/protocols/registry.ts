/**
 * The init and deploy protocols of the TIME pipeline, one definition per file. Method parsing, labels,
 * trackers, the pipeline and the study expansion all dispatch through these two lists, so adding a
 * protocol is one file and one entry here (test/time-protocol-registry.test.ts then covers it).
 */
import { didYouMean } from '../../params/did-you-mean.js';
import { fail } from '../../params/errors.js';
import { baseInit } from './base.js';
import { deployedInit } from './deployed.js';
import { dop } from './dop.js';
import { ema } from './ema.js';
import { initFromDeploy } from './from-deploy.js';
import { last } from './last.js';
import { mergeAll } from './merge-all.js';
import { opcm } from './opcm.js';
import { paint } from './paint.js';
import type { DeployProtocolDef, InitOptions, InitProtocolDef } from './types.js';

/** Deploy protocols, in the order help texts and protocol grids list them. */
export const DEPLOY_PROTOCOLS = [last, mergeAll, ema, paint, opcm, dop] as const;

/** Init protocols: θ0, one per deploy protocol (training from its model), and the deployed model. */
export const INIT_PROTOCOL_DEFS = [
  baseInit,
  initFromDeploy(last),
  initFromDeploy(mergeAll),
  initFromDeploy(ema),
  initFromDeploy(paint),
  initFromDeploy(opcm),
  initFromDeploy(dop),
  deployedInit,
] as const;

type ProtocolOf<D> = D extends DeployProtocolDef<infer P> ? P : never;
export type DeployProtocol = ProtocolOf<(typeof DEPLOY_PROTOCOLS)[number]>;
export type DeployKind = DeployProtocol['kind'];
export type InitProtocol = (typeof INIT_PROTOCOL_DEFS)[number]['name'];

export const DEPLOY_KINDS: readonly DeployKind[] = DEPLOY_PROTOCOLS.map((d) => d.kind);
export const INIT_PROTOCOLS: readonly InitProtocol[] = INIT_PROTOCOL_DEFS.map((d) => d.name);

/** The definition of a deploy protocol by kind, or undefined. */
export function findDeploy(kind: string): DeployProtocolDef<DeployProtocol> | undefined {
  // Each definition handles exactly the protocols of its own kind, which is what the lookup selects on.
  return DEPLOY_PROTOCOLS.find((d) => d.kind === kind) as DeployProtocolDef<DeployProtocol> | undefined;
}

/** The definition of an init protocol by name, or undefined. */
export function findInit(name: string): InitProtocolDef<InitProtocol> | undefined {
  return INIT_PROTOCOL_DEFS.find((d) => d.name === name);
}

export function deployDef(kind: string, method?: string): DeployProtocolDef<DeployProtocol> {
  return (
    findDeploy(kind) ??
    fail(
      'CONFIG',
      `${method ? `method "${method}": ` : ''}unknown deploy protocol "${kind}"${didYouMean(kind, DEPLOY_KINDS)} (known: ${DEPLOY_KINDS.join(', ')})`,
    )
  );
}

export function initDef(name: string, method?: string): InitProtocolDef<InitProtocol> {
  return (
    findInit(name) ??
    fail(
      'CONFIG',
      `${method ? `method "${method}": ` : ''}unknown init protocol "${name}"${didYouMean(name, INIT_PROTOCOLS)} (known: ${INIT_PROTOCOLS.join(', ')})`,
    )
  );
}

/** Whether a step of this init/deploy pair merges models (if not, every technique gives the same run). */
export function pairMerges(init: InitProtocol, deploy: DeployProtocol): boolean {
  return initDef(init).merges !== 'nothing' || deployDef(deploy.kind).merges !== 'nothing';
}

/** The protocols of one method: what the merge-count rules read. */
export interface ProtocolPair {
  readonly init: InitProtocol;
  readonly initOptions?: InitOptions;
  readonly deploy: DeployProtocol;
}

/**
 * The most models one merge of every expert merges over T steps: the deploy merges θs_1..θs_T, the init
 * θs_1..θs_{T-1}, each with θ0 only when it includes the base; 0 when neither merges every expert.
 */
export function mostModelsMerged(m: ProtocolPair, T: number): number {
  const init = initDef(m.init);
  const deployCount = m.deploy.kind === 'merge-all' ? T + (m.deploy.includeBase ? 1 : 0) : 0;
  const initCount = init.merges === 'all' ? T - 1 + (init.resolve(m.initOptions ?? {}).includeBase ? 1 : 0) : 0;
  return Math.max(deployCount, initCount);
}

/** Why `technique` cannot run this method's protocols over T steps, or undefined when it can. */
export function mergeCountProblem(
  m: ProtocolPair,
  technique: { name: string; experts: { max?: number } },
  T: number,
): string | undefined {
  const max = technique.experts.max;
  const most = mostModelsMerged(m, T);
  if (max === undefined || max >= most) return undefined;
  return `${technique.name} merges at most ${max} models; merge-all needs ${most}`;
}
