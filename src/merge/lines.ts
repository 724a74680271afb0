import { fail } from '../params/errors.js';
import { addScaled, sub } from '../params/kernels.js';
import type { ParamSet } from '../params/paramset.js';
import { int, num, oneOf, paramDocs, parseParams, str, type ParamsOf } from './params.js';
import type { IncrementalMerge, MergeTechnique, ParamDoc } from './types.js';

/**
 * LiNeS (Wang et al. 2025, "LiNeS: Post-training layer scaling prevents forgetting and enhances model
 * merging"), a modifier on any technique: the merged task vector of layer l (0-based, L layers) is scaled
 * by alpha + beta·l/(L-1), i.e. θ0 + s_l·(merge - θ0). Shallow layers stay close to θ0.
 */
export type LinesOptions = ParamsOf<typeof LINES_SPECS>;

/** open_clip `...resblocks.N.` and Hugging Face `...layers.N.` (also `layer.N.`, `h.N.`, `blocks.N.`). */
export const DEFAULT_LAYER_PATTERN = '(?:^|\\.)(?:resblocks|layers|layer|blocks|h)\\.(\\d+)(?:\\.|$)';

const LINES_SPECS = {
  alpha: num(0.5, 'Scale of the first layer (fomo_in_flux lines_params default 0.5).'),
  beta: num(0.5, 'Added scale at the last layer: layer l gets alpha + beta·l/(L-1).'),
  /** Regular expression whose first capture group is the layer index. */
  pattern: str(
    DEFAULT_LAYER_PATTERN,
    'Regex with one capture group: the layer index in a tensor name.',
    'open_clip/HF layers',
  ),
  /** L; 0 = one more than the largest index found in the tensor names. */
  layers: int(0, 'Number of layers L; 0 = largest index found + 1 (detect). L = 1 scales by alpha.'),
  /** Scale of tensors outside every layer (embeddings, final norms, heads). */
  outside: oneOf(
    ['alpha', 'deepest', 'one'],
    'alpha',
    'Scale for tensors in no layer: alpha (LiNeS reference code, fomo_in_flux), alpha + beta, or 1 (untouched merge).',
  ),
  curve: oneOf(
    ['linear', 'quadratic', 'sqrt'],
    'linear',
    'Layer l gets alpha + beta·x with x = l/(L-1), x², or √x (fomo_in_flux lines_params scaling types).',
  ),
};

export const LINES_PARAMS: readonly ParamDoc[] = paramDocs(LINES_SPECS);

export function parseLines(raw: Record<string, unknown>): LinesOptions {
  const o = parseParams('lines', LINES_SPECS, raw);
  if (o.layers < 0) fail('CONFIG', `lines: layers must be >= 0, got ${o.layers}`);
  layerRegex(o.pattern);
  return o;
}

function layerRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (e) {
    fail(
      'CONFIG',
      `lines: pattern ${JSON.stringify(pattern)} is not a valid regular expression (${(e as Error).message})`,
    );
  }
}

/** The layer index in a tensor name, or undefined outside every layer. */
export function layerIndex(name: string, re: RegExp): number | undefined {
  const m = re.exec(name);
  if (!m || m[1] === undefined) return undefined;
  const l = Number(m[1]);
  return Number.isInteger(l) && l >= 0 ? l : undefined;
}

/** L from the names: the configured count, else one more than the largest index (0 if none match). */
export function layerCount(names: Iterable<string>, o: LinesOptions): number {
  if (o.layers > 0) return o.layers;
  const re = layerRegex(o.pattern);
  let max = -1;
  for (const n of names) {
    const l = layerIndex(n, re);
    if (l !== undefined && l > max) max = l;
  }
  return max + 1;
}

/** The LiNeS scale of one tensor. */
export function linesScale(name: string, L: number, o: LinesOptions, re: RegExp = layerRegex(o.pattern)): number {
  const l = layerIndex(name, re);
  if (l === undefined) return o.outside === 'alpha' ? o.alpha : o.outside === 'deepest' ? o.alpha + o.beta : 1;
  if (l >= L) fail('CONFIG', `lines: tensor "${name}" is in layer ${l} but layers = ${L}`);
  const x = L > 1 ? l / (L - 1) : 0;
  return o.alpha + o.beta * (o.curve === 'quadratic' ? x ** 2 : o.curve === 'sqrt' ? x ** 0.5 : x);
}

/** θ0 + s·(merged - θ0), in place on merged. */
function rescaleDelta(merged: Float32Array, base: Float32Array, s: number): void {
  if (s === 1) return;
  sub(merged, merged, base);
  addScaled(merged, base, s, merged);
}

interface Prepared {
  readonly inner: unknown;
  readonly layers: number;
}

/** `technique` with LiNeS applied to its merged task vector; batch and incremental forms both scaled. */
export function withLines<P extends object>(technique: MergeTechnique<P>, o: LinesOptions): MergeTechnique<P> {
  const re = layerRegex(o.pattern);
  const wrapped: MergeTechnique<P> = {
    ...technique,
    summary: `${technique.summary} With LiNeS layer scaling.`,
    // The rescaled task vector is measured from θ0, whatever the technique itself reads.
    facts: { ...technique.facts, readsBase: true },
    async prepare(params, sources) {
      const inner = technique.prepare ? await technique.prepare(params, sources) : undefined;
      return {
        inner,
        layers: layerCount(
          sources.base.tensorInfos().map((t) => t.name),
          o,
        ),
      } satisfies Prepared;
    },
    merge(input, params, prepared) {
      const pr = prepared as Prepared | undefined;
      const L = pr?.layers ?? (o.layers > 0 ? o.layers : undefined);
      if (L === undefined)
        fail(
          'MERGE',
          `lines: the number of layers is unknown for "${input.name}" (set layers or merge through the engine)`,
        );
      const merged = technique.merge(input, params, pr?.inner);
      rescaleDelta(merged, input.base, linesScale(input.name, L, o, re));
      return merged;
    },
  };
  if (technique.incremental) {
    const makeInner = technique.incremental.bind(technique);
    wrapped.incremental = (params: P, base: ParamSet): IncrementalMerge => {
      const inner = makeInner(params, base);
      const L = layerCount(base.names(), o);
      return {
        get count() {
          return inner.count;
        },
        add: (expert, weight) => inner.add(expert, weight),
        result() {
          const r = inner.result();
          for (const [name, t] of r.entries()) rescaleDelta(t.data, base.data(name), linesScale(name, L, o, re));
          return r;
        },
      };
    };
  }
  return wrapped;
}
