import seedrandom from 'seedrandom';
import { getTechnique } from '../merge/registry.js';
import { fail } from '../params/errors.js';
import { resolveSyntheticConfig, type SyntheticConfig } from '../synthetic/config.js';
import { methodMerges, parseMethod, sameRunKey, type Method } from '../time/method.js';
import { mergeCountProblem } from '../time/protocols.js';
import type { ReplayMix } from '../time/types.js';
import { ORACLE_MIX, PAPER_REPLAY, type RunSpec, type SkippedRun, type Study, type StudySetting } from './types.js';
import { isSafeId, SAFE_ID_RULE } from './ids.js';

/** The study as it runs: `--quick` overrides applied, `--seeds` replacing the seed list. */
export function effectiveStudy(study: Study, options: { quick?: boolean; seeds?: readonly number[] } = {}): Study {
  let s: Study = study;
  if (options.quick && study.quick) {
    const q = study.quick;
    s = { ...s, ...q, stream: { ...s.stream, ...(q.stream ?? {}) } };
    s = { ...s, description: quickDescription(s) };
  }
  if (options.seeds) {
    if (options.seeds.length === 0) fail('CONFIG', `study ${study.name}: --seeds needs at least one seed`);
    for (const x of options.seeds)
      if (!Number.isInteger(x)) fail('CONFIG', `study ${study.name}: seed "${x}" is not an integer`);
    s = { ...s, seeds: [...options.seeds] };
  }
  return s;
}

/**
 * What a `--quick` run actually runs, for findings.md and config.json: the full study's description
 * would claim its grid and stream (e.g. T = 20 tasks from 5 datasets) for a much smaller run.
 */
function quickDescription(s: Study): string {
  const c = resolveSyntheticConfig(s.stream);
  const settings = s.settings?.length
    ? `${s.settings.length} settings (${s.settings.map((x) => x.label).join(', ')}) of `
    : '';
  return (
    `Quick version (--quick) of study ${s.name}, smaller than the full study: methods ${s.methods.join(', ')} x ` +
    `techniques ${s.techniques.map((t) => t.label ?? t.name).join(', ')}, on ${settings}a stream of T = ${c.T} tasks from ` +
    `${c.datasets} datasets, ${c.stepsPerTask} steps per task, d = ${c.d}; seeds ${s.seeds.join(', ')}` +
    `${s.baselines.length ? `; baselines ${s.baselines.join(', ')}` : ''}. Run the study without --quick for its findings.`
  );
}

/** Does this method merge anything? If not, every technique gives the same run. */
export function usesMerge(m: Method): boolean {
  return methodMerges(m);
}

/** Seed of the TIME loop for (study, setting, grid seed): shared by every method so comparisons are paired. */
export function runSeedFor(studySeed: number, setting: string, seed: number): number {
  return seedrandom(`time-merge-study/${studySeed}/${setting}/${seed}`).int32() >>> 0;
}

function settingParams(
  cfg: SyntheticConfig,
  replay: ReplayMix,
  setting: string,
): Record<string, string | number | boolean> {
  return {
    setting,
    world: cfg.world,
    rotation: cfg.rotation,
    zeroshot_held_out: cfg.zeroshotHeldOut,
    d: cfg.d,
    k: cfg.k,
    m: cfg.m,
    T: cfg.T,
    steps: cfg.stepsPerTask,
    classes_per_task: cfg.classesPerTask,
    datasets: cfg.datasets,
    task_similarity: cfg.taskSimilarity,
    ordering: cfg.ordering,
    optimiser: cfg.optimiser,
    lr: cfg.lr,
    batch_size: cfg.batchSize,
    replay_pretrain: replay.pretrain,
    replay_current: replay.current,
    replay_buffer: replay.buffer,
  };
}

/**
 * Expands a study into its run list, in a fixed order: setting, seed, baselines, then method x technique.
 * Methods whose result cannot depend on the technique run once with technique '-'; a method equal to an
 * earlier one (deployed+last is last+last) and techniques that cannot take the method's merges are skipped,
 * each with its reason.
 */
export function expandStudy(study: Study): { runs: RunSpec[]; skipped: SkippedRun[] } {
  if (!isSafeId(study.name)) fail('CONFIG', `study name "${study.name}" ${SAFE_ID_RULE}`);
  if (study.seeds.length === 0) fail('CONFIG', `study ${study.name}: no seeds`);
  const settings: readonly StudySetting[] = study.settings?.length ? study.settings : [{ label: 'default' }];
  const labels = new Set<string>();
  for (const s of settings) {
    if (!isSafeId(s.label)) fail('CONFIG', `study ${study.name}: setting label "${s.label}" ${SAFE_ID_RULE}`);
    if (labels.has(s.label)) fail('CONFIG', `study ${study.name}: setting label "${s.label}" appears twice`);
    labels.add(s.label);
  }
  const methods = study.methods.map((name) => ({ name, parsed: parseMethod(name) }));
  for (const t of study.techniques) getTechnique(t.name);
  const runs: RunSpec[] = [];
  const skipped: SkippedRun[] = [];
  const studySeed = study.seed ?? 0;
  for (const setting of settings) {
    const stream = resolveSyntheticConfig({ ...study.stream, ...(setting.stream ?? {}) });
    const replay = setting.replay ?? study.replay ?? PAPER_REPLAY;
    const multitaskMix = study.multitaskMix ?? ORACLE_MIX;
    const canonical = new Map<string, string>();
    const plan: {
      method: string;
      technique: string;
      techniqueName?: string;
      kind: RunSpec['kind'];
      params?: Record<string, unknown>;
    }[] = [];
    for (const b of study.baselines) plan.push({ method: b, technique: '-', kind: 'baseline' });
    for (const { name, parsed } of methods) {
      // deployed+D is D+D under another name (sameRunKey).
      const key = sameRunKey(parsed);
      const dup = canonical.get(key);
      if (dup !== undefined) {
        skipped.push({ setting: setting.label, method: name, technique: '*', reason: `same run as ${dup}` });
        continue;
      }
      canonical.set(key, name);
      if (!usesMerge(parsed)) {
        plan.push({ method: name, technique: '-', kind: 'method' });
        if (study.techniques.length > 1)
          skipped.push({
            setting: setting.label,
            method: name,
            technique: '*',
            reason: 'merges nothing: the technique cannot matter, run once',
          });
        continue;
      }
      for (const t of study.techniques) {
        const tech = getTechnique(t.name);
        const tooMany = mergeCountProblem(parsed, tech, stream.T);
        if (tooMany) {
          skipped.push({ setting: setting.label, method: name, technique: tech.name, reason: tooMany });
          continue;
        }
        const label = t.label ?? tech.name;
        plan.push({
          method: name,
          technique: label,
          ...(label !== tech.name ? { techniqueName: tech.name } : {}),
          kind: 'method',
          params: t.params as Record<string, unknown> | undefined,
        });
      }
    }
    for (const seed of study.seeds) {
      const runSeed = runSeedFor(studySeed, setting.label, seed);
      for (const p of plan) {
        const mix = p.kind === 'baseline' && p.method === 'multitask' ? multitaskMix : replay;
        const runId = `${setting.label}/${p.method}/${p.technique}/s${seed}`;
        runs.push({
          runId,
          index: runs.length,
          study: study.name,
          setting: setting.label,
          stream: { ...stream, seed },
          replay: mix,
          kind: p.kind,
          method: p.method,
          technique: p.technique,
          ...(p.techniqueName ? { techniqueName: p.techniqueName } : {}),
          techniqueParams: p.params,
          seed,
          runSeed,
          params: settingParams(stream, mix, setting.label),
        });
      }
    }
  }
  const ids = new Set<string>();
  for (const r of runs) {
    if (ids.has(r.runId))
      fail('CONFIG', `study ${study.name}: run id "${r.runId}" appears twice (a technique listed twice?)`);
    ids.add(r.runId);
  }
  return { runs, skipped };
}

/** Parses `i/n` (1-based): shard i of n. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) fail('CONFIG', `--shard "${text}": expected i/n, e.g. 2/8`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) fail('CONFIG', `--shard "${text}": need 1 <= i <= n`);
  return { index, count };
}

/** Shard i of n: every run whose position in the full list is i-1 modulo n (balanced, deterministic). */
export function shardRuns<T extends { index: number }>(
  runs: readonly T[],
  shard: { index: number; count: number },
): T[] {
  return runs.filter((r) => r.index % shard.count === shard.index - 1);
}

export function shardSuffix(shard: { index: number; count: number } | undefined): string | undefined {
  return shard && shard.count > 1 ? `shard-${shard.index}-of-${shard.count}` : undefined;
}

/** One run of a seeds x (baselines, methods) grid. */
export interface SeedGridRun {
  readonly runId: string;
  readonly index: number;
  readonly kind: 'method' | 'baseline';
  /** The method as given, or the baseline's name. */
  readonly method: string;
  readonly seed: number;
}

/**
 * The runs of a grid of seeds x (baselines, methods), in the order every study runs them: per seed the
 * baselines, then the methods. `runId` names each; two runs of one id are a config error.
 */
export function expandSeedGrid(
  grid: {
    readonly seeds: readonly number[];
    readonly baselines: readonly string[];
    readonly methods: readonly string[];
  },
  runId: (kind: SeedGridRun['kind'], method: string, seed: number) => string,
  where = 'study',
): SeedGridRun[] {
  if (grid.seeds.length === 0) fail('CONFIG', `${where}: no seeds`);
  const runs: SeedGridRun[] = [];
  for (const seed of grid.seeds) {
    const plan = [
      ...grid.baselines.map((method) => ({ kind: 'baseline' as const, method })),
      ...grid.methods.map((method) => ({ kind: 'method' as const, method })),
    ];
    for (const p of plan) runs.push({ runId: runId(p.kind, p.method, seed), index: runs.length, ...p, seed });
  }
  const ids = new Set<string>();
  for (const r of runs) {
    if (ids.has(r.runId))
      fail('CONFIG', `${where}: run id "${r.runId}" appears twice (a method or seed listed twice?)`);
    ids.add(r.runId);
  }
  return runs;
}
