import { fail } from '../params/errors.js';
import type { TensorSource } from '../params/source.js';
import type { TensorInfo } from '../params/tensor.js';
import type { SliceConfig } from './config-slices.js';
import { mergeSpecOf, type MergeConfig } from './config.js';
import type { MergeSpec } from './engine.js';
import { getTechnique } from './registry.js';
import { layerLayout, RenamedSource, sliceNames, type LayerLayout } from './slices.js';

/** One streamed merge of a run: the output's tensors it writes come from these sources. */
export interface MergePart {
  readonly spec: MergeSpec;
  readonly base: TensorSource;
  readonly experts: readonly TensorSource[];
}

/** What a run writes: its parts in output order, and the output's layer count when slices set it. */
export interface MergePlan {
  readonly parts: readonly MergePart[];
  readonly infos: readonly TensorInfo[];
  readonly layers?: number;
}

/**
 * `open(path, role)` gives a checkpoint for one role of a merge (0 the base, k expert k): one merge
 * reads a tensor of every role at once, and a checkpoint may reuse one read buffer, so a file used in
 * two roles is opened twice.
 */
export type OpenRole = (path: string, role: number) => Promise<TensorSource>;

/** The merges a config asks for: one over whole models, or mergekit slices' (layers, then the rest). */
export async function planMerge(config: MergeConfig, open: OpenRole): Promise<MergePlan> {
  if (!config.slices) {
    const base = await open(config.base, 0);
    const experts = await Promise.all(config.models.map((m, k) => open(m.path, k + 1)));
    return { parts: [{ spec: mergeSpecOf(config), base, experts }], infos: base.tensorInfos() };
  }
  const layouts = new Map<string, LayerLayout>();
  const layoutOf = async (path: string) => {
    let l = layouts.get(path);
    if (!l) {
      const names = (await open(path, 0)).tensorInfos().map((t) => t.name);
      l = layerLayout(names, path);
      layouts.set(path, l);
    }
    return l;
  };
  const slices = config.slices;
  const layerParts: MergePart[] = [];
  let at = 0;
  for (const [i, slice] of slices.entries()) {
    const where = `${config.source}: slices[${i}]`;
    const own = await Promise.all(slice.sources.map((s) => layoutOf(s.path)));
    const names = sliceNames(
      own,
      slice.sources.map((s) => s.range),
      slice.sources.map((s) => s.model),
      at,
      where,
    );
    layerParts.push(
      await partOf(slice, where, new Map(names.names), async (entry, role) => {
        const [a, b] = slice.sources[entry].range;
        const ck = await open(slice.sources[entry].path, role);
        return new RenamedSource(ck, names.perSource[entry], `layers ${a}-${b - 1}`);
      }),
    );
    at += slice.sources[0].range[1] - slice.sources[0].range[0];
  }
  // Tensors outside the layers, merged as mergekit does: embeddings over the first slice's sources,
  // final norms and heads over the last slice's.
  const around = async (slice: SliceConfig, which: 'pre' | 'post', i: number): Promise<MergePart | undefined> => {
    const names = (await layoutOf(slice.sources[0].path))[which];
    if (names.length === 0) return undefined;
    const pairs = names.map((n) => [n, n] as const);
    const what = which === 'pre' ? 'embeddings' : 'final tensors';
    return partOf(slice, `${config.source}: slices[${i}]`, new Map(), async (entry, role) => {
      return new RenamedSource(await open(slice.sources[entry].path, role), pairs, what);
    });
  };
  const parts = [
    await around(slices[0], 'pre', 0),
    ...layerParts,
    await around(slices[slices.length - 1], 'post', slices.length - 1),
  ].filter((p): p is MergePart => p !== undefined);
  return { parts, infos: parts.flatMap((p) => p.base.tensorInfos()), layers: at };
}

/** A slice's merge over views of its sources; `local` maps output names to slice-local ones (gradients). */
async function partOf(
  slice: SliceConfig,
  where: string,
  local: ReadonlyMap<string, string>,
  view: (entry: number, role: number) => Promise<TensorSource>,
): Promise<MergePart> {
  const c = slice.config;
  const technique = getTechnique(c.technique);
  const entryOf = (entry: number | undefined) => {
    if (entry === undefined || entry >= slice.sources.length)
      fail(
        'CONFIG',
        `${where}: ${c.technique} reads base_model, which is not one of the slice's sources; list it under sources with a layer_range`,
      );
    return entry;
  };
  const experts = await Promise.all(c.models.map((m, k) => view(entryOf(m.entry), k + 1)));
  // A technique that never reads the base gets the first source in its place (for the structure only).
  const base =
    c.baseEntry !== undefined
      ? await view(c.baseEntry, 0)
      : technique.facts.readsBase
        ? await view(entryOf(undefined), 0)
        : experts[0];
  const spec = mergeSpecOf(c);
  const perTensor = c.perTensor;
  if (!perTensor || local.size === 0) return { spec, base, experts };
  // Gradients run over the slice's own layers (t = j/(n-1) for its layer j), as mergekit plans a slice.
  const toLocal = (n: string) => local.get(n) ?? n;
  return {
    spec: {
      ...spec,
      perTensor: (outNames) => {
        const inner = perTensor(outNames.map(toLocal));
        return (n) => inner(toLocal(n));
      },
    },
    base,
    experts,
  };
}
