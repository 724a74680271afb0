import { join } from 'node:path';
import type { ParamSet } from '../../params/paramset.js';
import { ExternalEvaluator, ExternalTrainer } from '../../time/external.js';
import { runNamed, type RunConfig, type TimeEvent } from '../../time/pipeline.js';
import type { RunRecord } from '../../time/record.js';
import type { ExternalRunConfig } from '../../time/run-config.js';
import type { GridRun } from '../driver.js';
import type { SeedGridRun } from '../expand.js';
import { type RunKind, slotEnv, slotLog } from './index.js';

export interface ExternalContext {
  readonly config: ExternalRunConfig;
  readonly base: ParamSet;
  readonly log: (msg: string) => void;
}

export type ExternalRunSpec = GridRun & SeedGridRun;

function fmt(v: number | null): string {
  return v === null ? '-' : v.toFixed(4);
}

/**
 * `time-merge run` runs: the trainer and evaluator are external programs, started afresh for every call,
 * so runs go at once simply by running their programs at once (with GPUs, each slot's programs see only
 * its GPU). Each run has its own store (<store>/<run id>), exchange folder (<out>/work/<run id>) and,
 * when resumable, resume log (<out>/resume/<run id>).
 */
export const externalKind: RunKind<ExternalContext, ExternalRunSpec> = {
  name: 'external',
  async open({ config: c, base, log: baseLog }, slots) {
    const run = async (spec: ExternalRunSpec, slot: number): Promise<{ record: RunRecord }> => {
      const log = slotLog(slots, slot, baseLog);
      const env = slotEnv(slots, slot);
      const work = join(c.out, 'work', spec.runId);
      const onEvent = (e: TimeEvent) => {
        if (e.type === 'step')
          log(`  step ${e.step}/${e.T}: A_KA ${fmt(e.record.aKa)} A_ZS ${fmt(e.record.aZs)} GM ${fmt(e.record.gm)}`);
        if (e.type === 'resumed') log(`  step ${e.step}/${e.T}: already finished`);
      };
      const resumable = spec.kind === 'method' || spec.method === 'continual';
      const config: RunConfig<unknown> = {
        stream: c.stream,
        trainer: new ExternalTrainer({
          command: c.trainer.command,
          workDir: join(work, 'train'),
          cwd: c.cwd,
          timeoutMs: c.trainer.timeoutMs,
          env,
        }),
        evaluator: new ExternalEvaluator({
          command: c.evaluator.command,
          workDir: join(work, 'eval'),
          cwd: c.cwd,
          timeoutMs: c.evaluator.timeoutMs,
          env,
        }),
        base,
        stepsPerTask: c.steps,
        seed: spec.seed,
        replay: c.replay,
        store: { kind: 'disk', dir: join(c.store, spec.runId) },
        resumeDir: c.resume && resumable ? join(c.out, 'resume', spec.runId) : undefined,
        onEvent,
      };
      log(`${spec.kind} ${spec.method}${spec.kind === 'method' ? ` (${c.technique})` : ''}, seed ${spec.seed}`);
      const merge = { technique: c.technique, params: c.parameters, seed: spec.seed };
      return { record: await runNamed(spec.kind, spec.method, config, merge) };
    };
    return { slots: slots.count, run, close: async () => {} };
  },
};
