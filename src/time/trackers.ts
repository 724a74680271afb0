import type { MergeSpec } from '../merge/engine.js';
import type { ParamSet } from '../params/paramset.js';
import { deployDef, type DeployProtocol } from './protocols.js';
import type { CheckpointStore } from './store.js';

export { MergeAllTracker } from './protocols/merge-all.js';

/**
 * A model that follows the stream of experts: after add(θs_1) .. add(θs_t), current() is the protocol's
 * model at step t (θ0 before any add). Init protocols read a tracker before step t's add, deploy
 * protocols after it, so one tracker can serve both. current() results are shared: never modify them.
 * A result stays valid for the step that read it and the next one; later steps may reuse its memory
 * (the EMA tracker writes e_t over e_{t-2}), so keep a clone() to hold a model longer.
 * Each protocol's tracker lives in its file under ./protocols/.
 */
export interface Tracker {
  readonly key: string;
  add(expert: ParamSet, step: number): Promise<void>;
  current(): Promise<ParamSet>;
  /** Whether the tracker keeps O(params) state and never re-reads old experts from the store. */
  readonly incremental: boolean;
}

export interface TrackerContext {
  readonly base: ParamSet;
  readonly store: CheckpointStore;
  readonly merge: MergeSpec;
}

/** Which trackers are the same computation (and so may be shared between init and deploy). */
export function trackerKey(d: DeployProtocol): string {
  return deployDef(d.kind).key(d);
}

export function makeTracker(d: DeployProtocol, ctx: TrackerContext): Tracker {
  return deployDef(d.kind).tracker(d, ctx);
}
