import { fail } from '../params/errors.js';
import type { TensorSource } from '../params/source.js';
import type { TensorInfo } from '../params/tensor.js';

/**
 * Layer stacks as the common families name them: Llama/Mistral/Qwen2/Gemma `model.layers.N.`, GPT-2
 * `h.N.` (or `transformer.h.N.`), open_clip `resblocks.N.`. The first match in a name is its layer.
 */
const LAYER_RE = /^((?:.*?\.)?(?:layers|h|resblocks))\.(\d+)\.(.+)$/;
export const KNOWN_LAYOUTS = 'model.layers.N. (Llama, Mistral, Qwen2, Gemma), h.N. (GPT-2), resblocks.N. (open_clip)';

/**
 * Tensors before the layers in mergekit's architecture definitions (embeddings); every other tensor
 * outside the layers (final norms, heads) comes after them. mergekit merges the first kind over the
 * first slice's sources and the second over the last slice's.
 */
const PRE_RE = /(embed|(^|\.)wte\.|(^|\.)wpe\.|conv1|class_embedding|positional_embedding|ln_pre|patch_embed)/;

/** A model's tensors sorted into one layer stack and the tensors around it. */
export interface LayerLayout {
  /** The stack's prefix (`model.layers`), or undefined for a model without layers. */
  readonly prefix: string;
  /** Per layer, its tensors' name suffixes after `prefix.N.`, in the model's order. */
  readonly layers: readonly (readonly string[])[];
  readonly pre: readonly string[];
  readonly post: readonly string[];
}

/** Sorts tensor names into a layer stack; a layout it cannot read is a CONFIG error naming tensors. */
export function layerLayout(names: readonly string[], label: string): LayerLayout {
  const stacks = new Map<string, Map<number, string[]>>();
  const outside: string[] = [];
  for (const name of names) {
    const m = LAYER_RE.exec(name);
    if (!m) {
      outside.push(name);
      continue;
    }
    const stack = stacks.get(m[1]) ?? new Map<number, string[]>();
    stacks.set(m[1], stack);
    const l = Number(m[2]);
    stack.set(l, [...(stack.get(l) ?? []), m[3]]);
  }
  // A numbered component outside every known stack is a layer of a layout this does not know.
  const unplaced = outside.filter((n) => /(^|\.)\d+(\.|$)/.test(n));
  if (stacks.size === 0 || unplaced.length > 0) {
    const shown = (unplaced.length > 0 ? unplaced : outside).slice(0, 4);
    fail(
      'CONFIG',
      `${label}: slices need a known layer layout (${KNOWN_LAYOUTS}); could not place tensor(s) ${shown.map((n) => `"${n}"`).join(', ')}${unplaced.length > shown.length ? ` and ${unplaced.length - shown.length} more` : ''}`,
    );
  }
  if (stacks.size > 1)
    fail(
      'CONFIG',
      `${label}: slices take one layer stack; this model has ${stacks.size} (${[...stacks.keys()].join(', ')})`,
    );
  const [[prefix, byIndex]] = [...stacks.entries()];
  const count = Math.max(...byIndex.keys()) + 1;
  const layers: string[][] = [];
  for (let l = 0; l < count; l++) {
    const own = byIndex.get(l);
    if (!own) fail('CONFIG', `${label}: layer ${l} of ${prefix} has no tensors (layers 0-${count - 1} expected)`);
    layers.push(own);
  }
  return {
    prefix,
    layers,
    pre: outside.filter((n) => PRE_RE.test(n)),
    post: outside.filter((n) => !PRE_RE.test(n)),
  };
}

/** One source of a slice: a checkpoint and its layers [begin, end). */
export interface SliceSource {
  readonly source: TensorSource;
  readonly range: readonly [number, number];
}

/**
 * A view of a source under other names: each exposed name reads one tensor of the source. Slices use it
 * to present a source's layers under the output's layer numbers.
 */
export class RenamedSource implements TensorSource {
  readonly label: string;
  private readonly infos: readonly TensorInfo[];
  private readonly from = new Map<string, string>();

  constructor(
    private readonly inner: TensorSource,
    names: readonly (readonly [string, string])[],
    what: string,
  ) {
    this.label = `${inner.label} (${what})`;
    const byName = new Map(inner.tensorInfos().map((t) => [t.name, t]));
    this.infos = names.map(([out, src]) => {
      const info = byName.get(src);
      if (!info) fail('MISMATCH', `${inner.label}: no tensor named "${src}"`);
      this.from.set(out, src);
      return { ...info, name: out };
    });
  }

  tensorInfos(): readonly TensorInfo[] {
    return this.infos;
  }

  read(name: string): Promise<Float32Array> {
    const src = this.from.get(name);
    if (src === undefined) fail('MISMATCH', `${this.label}: no tensor named "${name}"`);
    return this.inner.read(src);
  }
}

/** Output tensor names of one slice's layers, with the name each source gives them and the slice-local name. */
export interface SliceNames {
  /** [output name, local name (layer numbered from 0 in the slice)] in output order. */
  readonly names: readonly (readonly [string, string])[];
  /** Per source, [output name, source name]. */
  readonly perSource: readonly (readonly (readonly [string, string])[])[];
}

/**
 * Names for a slice of `length` layers starting at output layer `at`: layer j of the slice is layer
 * range[0] + j of each source, renumbered to at + j. Each source must have the tensors of the first
 * source's layers (the structure check later compares shapes).
 */
export function sliceNames(
  layouts: readonly LayerLayout[],
  ranges: readonly (readonly [number, number])[],
  labels: readonly string[],
  at: number,
  where: string,
): SliceNames {
  const length = ranges[0][1] - ranges[0][0];
  ranges.forEach(([a, b], k) => {
    const count = layouts[k].layers.length;
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b > a && b <= count))
      fail(
        'CONFIG',
        `${where}: sources[${k}] (${labels[k]}): layer_range [${a}, ${b}] must satisfy 0 <= begin < end <= ${count} (its layers)`,
      );
    if (b - a !== length)
      fail(
        'CONFIG',
        `${where}: every source of a slice must span the same number of layers; sources[0] has ${length}, sources[${k}] (${labels[k]}) has ${b - a}`,
      );
  });
  const outPrefix = layouts[0].prefix;
  const names: [string, string][] = [];
  const perSource: [string, string][][] = ranges.map(() => []);
  for (let j = 0; j < length; j++) {
    for (const suffix of layouts[0].layers[ranges[0][0] + j]) {
      names.push([`${outPrefix}.${at + j}.${suffix}`, `${outPrefix}.${j}.${suffix}`]);
      ranges.forEach(([a], k) => {
        perSource[k].push([`${outPrefix}.${at + j}.${suffix}`, `${layouts[k].prefix}.${a + j}.${suffix}`]);
      });
    }
  }
  return { names, perSource };
}
