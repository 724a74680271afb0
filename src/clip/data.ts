import { fail } from '../params/errors.js';
import type { Task, TaskStream } from '../time/types.js';
import {
  cutPerDataset,
  cutStream,
  defaultEvaluationDatasets,
  readAnnotations,
  readClassnames,
  readStream,
  type DatasetInfo,
  type FomoLayout,
  type Sample,
  type Split,
  type StreamEntry,
} from './fomo.js';

/** What a CLIP task is: parts of datasets (a set of classes, or the whole dataset when classnames is null). */
export interface ClipTaskData {
  readonly parts: readonly { readonly dataset: string; readonly classnames: readonly string[] | null }[];
}

export type ClipTask = Task<ClipTaskData>;

/** Cached access to a FoMo-in-Flux tree: annotations per dataset and split, class names, task samples. */
export class FomoData {
  private readonly splits = new Map<string, Sample[]>();
  private readonly names = new Map<string, string[]>();
  private readonly excluded = new Set<string>();
  /** Where the prepared (resized) variants are, when a run uses them (src/clip/prepared.ts). */
  private variants: ((s: Sample) => string) | undefined;

  constructor(
    readonly layout: FomoLayout,
    readonly registry: ReadonlyMap<string, DatasetInfo>,
    private readonly preferResized = true,
  ) {}

  info(folder: string): DatasetInfo {
    const d = this.registry.get(folder);
    if (!d)
      fail(
        'DATA',
        `unknown FoMo-in-Flux dataset "${folder}" (known: ${[...this.registry.keys()].slice(0, 8).join(', ')}, ... ${this.registry.size} in all)`,
      );
    return d;
  }

  split(folder: string, split: Split): Sample[] {
    const key = `${folder}/${split}`;
    let s = this.splits.get(key);
    if (!s) {
      s = readAnnotations(this.layout, this.info(folder), split, this.preferResized);
      if (this.excluded.size > 0) s = s.filter((x) => !this.excluded.has(x.path));
      this.splits.set(key, s);
    }
    return s;
  }

  /** Leaves these images (absolute paths: unreadable ones, as prepare listed them) out of every split. */
  exclude(paths: Iterable<string>): void {
    for (const p of paths) this.excluded.add(p);
    this.splits.clear();
  }

  /** Reads images from their prepared variants from now on. */
  useVariants(pathOf: (s: Sample) => string): void {
    this.variants = pathOf;
  }

  /** The file a loader decodes for a sample: its prepared variant when there are variants, else the original. */
  imagePath(s: Sample): string {
    return this.variants ? this.variants(s) : s.path;
  }

  /** The classifier's classes: the class-name file, or for retrieval sets the split's distinct class names. */
  classnames(folder: string): string[] {
    let n = this.names.get(folder);
    if (!n) {
      const info = this.info(folder);
      n = info.infoPrefix
        ? readClassnames(this.layout, info)
        : [...new Set(this.split(folder, 'test').map((s) => s.classname))];
      this.names.set(folder, n);
    }
    return n;
  }

  /** The samples of a task in one split, in annotation order. */
  samples(task: ClipTaskData, split: Split): Sample[] {
    const out: Sample[] = [];
    for (const part of task.parts) {
      const all = this.split(part.dataset, split);
      if (part.classnames === null) out.push(...all);
      else {
        const wanted = new Set(part.classnames);
        out.push(...all.filter((s) => wanted.has(s.classname)));
      }
    }
    return out;
  }
}

export interface StreamSpec {
  /** Stream file (a name in stream_construction/ or a path). */
  readonly stream: string;
  /** Number of tasks, or 'per-dataset' for one task per dataset in order of first appearance. */
  readonly T: number | 'per-dataset';
  /** Evaluation-only datasets (A_ZS); default every registry dataset marked eval_only that has annotations. */
  readonly zeroshot?: readonly string[];
}

function taskId(index: number, entries: readonly StreamEntry[]): string {
  const sets = [...new Set(entries.map((e) => e.dataset))];
  const shown = sets.slice(0, 3).join('+') + (sets.length > 3 ? `+${sets.length - 3}more` : '');
  return `t${index + 1}:${shown}`;
}

function groupParts(entries: readonly StreamEntry[]): ClipTaskData['parts'] {
  const byDataset = new Map<string, string[]>();
  for (const e of entries) {
    const l = byDataset.get(e.dataset);
    if (l) l.push(e.classname);
    else byDataset.set(e.dataset, [e.classname]);
  }
  return [...byDataset].map(([dataset, classnames]) => ({ dataset, classnames }));
}

/** Builds the TIME task stream from a stream ordering cut into T tasks, plus evaluation-only datasets. */
export function buildStream(
  data: FomoData,
  spec: StreamSpec,
  zeroshotAvailable: (folder: string) => boolean,
): TaskStream<ClipTaskData> {
  const entries = readStream(data.layout, spec.stream);
  for (const e of entries) data.info(e.dataset);
  const chunks = spec.T === 'per-dataset' ? cutPerDataset(entries) : cutStream(entries, spec.T);
  const adaptation: ClipTask[] = chunks.map((c, i) => ({
    id: taskId(i, c),
    role: 'adaptation',
    data: { parts: groupParts(c) },
  }));
  const zsFolders =
    spec.zeroshot ??
    defaultEvaluationDatasets(data.registry, new Set(entries.map((e) => e.dataset))).filter(zeroshotAvailable);
  const zeroshot: ClipTask[] = zsFolders.map((f) => {
    data.info(f);
    return { id: `zs:${f}`, role: 'zeroshot', data: { parts: [{ dataset: f, classnames: null }] } };
  });
  const name = spec.stream.replace(/^.*\//, '').replace(/\.json$/, '');
  return { name: `${name}/T=${spec.T}`, adaptation, zeroshot };
}

/**
 * Every image a run can read, each once, in a fixed order: the stream's adaptation tasks (train and
 * test), its evaluation-only sets (test) and the pretraining sets (train). The torch engine's index and
 * `clip prepare` both take this list.
 */
export function streamImages(data: FomoData, stream: TaskStream<ClipTaskData>, pretrain: readonly string[]): Sample[] {
  const seen = new Set<string>();
  const out: Sample[] = [];
  const add = (samples: Sample[]) => {
    for (const s of samples)
      if (!seen.has(s.path)) {
        seen.add(s.path);
        out.push(s);
      }
  };
  for (const t of stream.adaptation) add([...data.samples(t.data, 'train'), ...data.samples(t.data, 'test')]);
  for (const t of stream.zeroshot) add(data.samples(t.data, 'test'));
  for (const d of pretrain) add(data.split(d, 'train'));
  return out;
}
