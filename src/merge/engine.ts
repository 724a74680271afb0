import { takeCheck } from '../params/deferred-checks.js';
import { fail, TimeMergeError } from '../params/errors.js';
import { firstNonFinite } from '../params/kernels.js';
import { takeFiniteMark } from '../params/finite-marks.js';
import { ParamSet, assertSameStructure } from '../params/paramset.js';
import type { TensorSource } from '../params/source.js';
import type { TensorInfo } from '../params/tensor.js';
import { parseLines, withLines } from './lines.js';
import { getTechnique } from './registry.js';
import { tensorRng } from './tensor-rng.js';
import type { MergeTechnique } from './types.js';

/** What to merge with: a technique from the registry, its parameters, per-expert weights and a seed. */
export interface MergeSpec {
  readonly technique: string;
  readonly params?: Record<string, unknown>;
  /** One per expert; default 1 each. */
  readonly weights?: readonly number[];
  /** Seeds every random choice (DARE drops, random selection); default 0. */
  readonly seed?: number;
  /**
   * LiNeS layer scaling on top of the technique ({alpha, beta, pattern, layers, outside}; see lines.ts).
   * May also be given as `params.lines`.
   */
  readonly lines?: Record<string, unknown>;
  /**
   * Per-model parameter values (technique facts.perModel), one record per expert: each model its own
   * density, p, gamma, ... (mergekit's per-model parameters). Checked against the technique's ranges.
   */
  readonly expertParams?: readonly Readonly<Record<string, number>>[];
  /**
   * Settings that vary by tensor (mergekit gradients over layers and name filters): given every tensor
   * name, a function from a tensor name to its own parameters, weights and per-model values (undefined:
   * the spec's). Per-tensor parameters are parsed (and cached) like the spec's own.
   */
  readonly perTensor?: (names: readonly string[]) => (name: string) => TensorSettings | undefined;
}

/** One tensor's own settings (see MergeSpec.perTensor); absent fields take the spec's. */
export interface TensorSettings {
  readonly params?: Record<string, unknown>;
  readonly weights?: readonly number[];
  readonly expertParams?: readonly Readonly<Record<string, number>>[];
}

/** Where merged tensors go, one at a time (a ParamSet in memory, or a safetensors writer). */
export interface TensorSink {
  write(info: TensorInfo, data: Float32Array): Promise<void> | void;
}

export interface MergeOptions {
  onTensor?(name: string, index: number, total: number): void;
  /**
   * Output memory to reuse: a model of the merge's structure (typically the previous step's result, no
   * longer needed). Techniques that can write each merged tensor into its tensor of the same name; the
   * others allocate. Must not share memory with the base or the experts.
   */
  into?: ParamSet;
  /**
   * Output memory for one tensor, asked for just before it is merged (a writer's reused buffer); it
   * must stay valid until the sink's write() of that tensor returns. `into` comes first when it has the
   * tensor.
   */
  output?(info: TensorInfo): Float32Array | undefined;
}

export interface ResolvedMerge {
  readonly technique: MergeTechnique<any>;
  readonly params: object;
  readonly weights: number[];
  readonly seed: number;
  readonly expertParams?: readonly Readonly<Record<string, number>>[];
}

/** Checks a spec against the number of experts; every problem is a CONFIG error before any tensor is read. */
export function resolveMerge(spec: MergeSpec, expertCount: number): ResolvedMerge {
  const technique = getTechnique(spec.technique);
  if (expertCount < technique.experts.min) {
    fail('CONFIG', `${technique.name} needs at least ${technique.experts.min} expert model(s), got ${expertCount}`);
  }
  if (technique.experts.max !== undefined && expertCount > technique.experts.max) {
    fail('CONFIG', `${technique.name} takes at most ${technique.experts.max} expert models, got ${expertCount}`);
  }
  const weights = spec.weights ? [...spec.weights] : new Array<number>(expertCount).fill(1);
  if (weights.length !== expertCount)
    fail('CONFIG', `${weights.length} weights given for ${expertCount} expert models`);
  for (const w of weights) if (!Number.isFinite(w)) fail('CONFIG', `weight ${w} is not a finite number`);
  const seed = spec.seed ?? 0;
  if (!Number.isFinite(seed)) fail('CONFIG', `seed ${seed} is not a finite number`);
  const { lines: linesInParams, ...rawParams } = spec.params ?? {};
  if (spec.lines !== undefined && linesInParams !== undefined)
    fail('CONFIG', `${technique.name}: LiNeS given both as lines and as params.lines`);
  const linesRaw = spec.lines ?? linesInParams;
  if (linesRaw !== undefined && (typeof linesRaw !== 'object' || linesRaw === null || Array.isArray(linesRaw))) {
    fail('CONFIG', `${technique.name}: lines must be an object of LiNeS settings, got ${JSON.stringify(linesRaw)}`);
  }
  const params = technique.parse(rawParams);
  const expertParams = spec.expertParams && checkExpertParams(technique, rawParams, spec.expertParams, expertCount);
  if (!linesRaw) return { technique, params, weights, seed, expertParams };
  // The parsed LiNeS settings stay in params (as `lines`), so a spec rebuilt from resolved params
  // (a normalised config, a tracker) keeps the modifier; the wrapped technique ignores the extra key.
  const lines = parseLines(linesRaw as Record<string, unknown>);
  return { technique: withLines(technique, lines), params: { ...params, lines }, weights, seed, expertParams };
}

/**
 * Per-model values must be per-model parameters of the technique, and each model's values must parse
 * (so its density, p, ... is in range): a CONFIG error naming the model otherwise.
 */
export function checkExpertParams(
  technique: MergeTechnique<any>,
  rawParams: Record<string, unknown>,
  expertParams: readonly Readonly<Record<string, number>>[],
  expertCount: number,
): readonly Readonly<Record<string, number>>[] {
  if (expertParams.length !== expertCount)
    fail('CONFIG', `${expertParams.length} per-model parameter sets given for ${expertCount} expert models`);
  expertParams.forEach((values, k) => {
    for (const key of Object.keys(values)) {
      if (!technique.facts.perModel.includes(key)) {
        fail(
          'CONFIG',
          `${technique.name}: "${key}" cannot differ between models (per-model parameters: ${technique.facts.perModel.join(', ') || 'none'})`,
        );
      }
    }
    try {
      technique.parse({ ...rawParams, ...values });
    } catch (err) {
      if (err instanceof TimeMergeError)
        throw new TimeMergeError(err.code, `model ${k + 1}: ${err.message}`, { cause: err });
      throw err;
    }
  });
  return expertParams;
}

export { tensorRng } from './tensor-rng.js';

/** tensorRng, built on its first draw: seeding costs about 30 µs, and most techniques never draw. */
function lazyTensorRng(seed: number, name: string): () => number {
  let rng: (() => number) | undefined;
  return () => (rng ??= tensorRng(seed, name))();
}

/**
 * Streams a merge tensor by tensor: reads one tensor from the base and each expert, merges it, hands it
 * to the sink, and lets it go. Peak memory is about (experts + 2) times the largest tensor.
 */
export async function mergeInto(
  spec: MergeSpec,
  base: TensorSource,
  experts: readonly TensorSource[],
  sink: TensorSink,
  options: MergeOptions = {},
): Promise<void> {
  const { technique, params, weights, seed, expertParams } = resolveMerge(spec, experts.length);
  assertSameStructure(base, experts);
  const prepared = technique.prepare
    ? await technique.prepare(params, { base, experts, weights, expertParams, seed })
    : undefined;
  const infos = base.tensorInfos();
  const settingsOf = spec.perTensor?.(infos.map((t) => t.name));
  const parsedFor = tensorParamsCache(technique, params);
  for (let i = 0; i < infos.length; i++) {
    const info = infos[i];
    options.onTensor?.(info.name, i, infos.length);
    const own = settingsOf?.(info.name);
    const baseData = await base.read(info.name);
    const expertData = await Promise.all(experts.map((e) => e.read(info.name)));
    // Deferred input checks (deferred-checks.ts): run now, unless a finite result will prove them moot.
    // A base the technique never reads cannot reach the output and is not scanned (a third of a
    // two-expert weighted average's reads); its names and shapes were checked above.
    const proven = technique.facts.nonFiniteReachesOutput === true;
    const checks: (() => void)[] = [];
    for (const [k, data] of [baseData, ...expertData].entries()) {
      const check = takeCheck(data);
      if (!check || (k === 0 && !technique.facts.readsBase)) continue;
      if (proven) checks.push(check);
      else check();
    }
    const merged = mergeNamed(info.name, () =>
      technique.merge(
        {
          name: info.name,
          shape: info.shape,
          base: baseData,
          experts: expertData,
          weights: own?.weights ? [...own.weights] : weights,
          expertParams: own?.expertParams ?? expertParams,
          rng: lazyTensorRng(seed, info.name),
          out: outputFor(options.into, info.name, baseData.length) ?? options.output?.(info),
        },
        own?.params ? parsedFor(own.params, info.name) : params,
        prepared,
      ),
    );
    // Values read from a file that shrank under the read are not the file's: fail before writing them.
    for (const source of [base, ...experts]) source.verify?.(info.name);
    // A kernel that wrote every value of `merged` may have checked them already (finite-marks.ts).
    const bad = takeFiniteMark(merged) ? -1 : firstNonFinite(merged);
    if (bad >= 0) {
      for (const check of checks) check(); // a non-finite input's own error names its file and tensor
      fail('MERGE', `${technique.name} produced a non-finite value in "${info.name}" at index ${bad}`);
    }
    await sink.write(info, merged);
  }
}

/** Runs one tensor's merge; a MERGE error that does not name the tensor gets its name in front. */
function mergeNamed(name: string, merge: () => Float32Array): Float32Array {
  try {
    return merge();
  } catch (err) {
    if (err instanceof TimeMergeError && err.code === 'MERGE' && !err.message.includes(`"${name}"`))
      throw new TimeMergeError('MERGE', `tensor "${name}": ${err.message}`, { cause: err });
    throw err;
  }
}

/** Parses a tensor's own raw parameters once per distinct value (a gradient has one value per layer). */
function tensorParamsCache(
  technique: MergeTechnique<any>,
  resolved: object,
): (raw: Record<string, unknown>, tensor: string) => object {
  const cache = new Map<string, object>();
  const lines = (resolved as { lines?: unknown }).lines;
  return (raw, tensor) => {
    const key = JSON.stringify(raw);
    const hit = cache.get(key);
    if (hit) return hit;
    let parsed: object;
    try {
      parsed = technique.parse(raw);
    } catch (err) {
      if (err instanceof TimeMergeError)
        throw new TimeMergeError(err.code, `tensor "${tensor}": ${err.message}`, { cause: err });
      throw err;
    }
    const p: object = { ...parsed, ...(lines ? { lines } : {}) };
    cache.set(key, p);
    return p;
  };
}

function outputFor(into: ParamSet | undefined, name: string, length: number): Float32Array | undefined {
  if (!into?.has(name)) return undefined;
  const d = into.data(name);
  return d.length === length ? d : undefined;
}

/** The merged model in memory (written into options.into where the technique can; see MergeOptions). */
export async function mergeModels(
  spec: MergeSpec,
  base: TensorSource,
  experts: readonly TensorSource[],
  options: MergeOptions = {},
): Promise<ParamSet> {
  const out = new ParamSet(`merge(${spec.technique})`);
  await mergeInto(
    spec,
    base,
    experts,
    { write: (info, data) => void out.set(info.name, info.shape, data, info.dtype) },
    options,
  );
  return out;
}
