import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { fail } from '../params/errors.js';
import { csvObjects } from '../report/csv.js';
import type { RetrievalPart } from './evaluator.js';

/** retrieval.csv beside the standard results: the per-direction figures behind each retrieval score. */
export const RETRIEVAL_FILE = 'retrieval.csv';

export const RETRIEVAL_COLUMNS = [
  'run_id',
  'step',
  'task_index',
  'task_id',
  'dataset',
  'pairs',
  'k',
  'i2t_r1',
  'i2t_r5',
  't2i_r1',
  't2i_r5',
  'score',
] as const;

type Row = Record<(typeof RETRIEVAL_COLUMNS)[number], string>;

/**
 * Collects the evaluator's retrieval figures and files them under the run and TIME step they belong
 * to. The evaluator does not know either, so figures wait as pending until the pipeline reports the
 * step that was just evaluated; runs going at once each collect through their own slot. With resume,
 * rows of steps (or whole runs) that are skipped come from the earlier file.
 */
export class RetrievalLog {
  private readonly pending = new Map<number, RetrievalPart[]>();
  private readonly rows = new Map<string, Row[]>();
  private readonly earlier: Row[];

  constructor(
    private readonly k: number,
    earlierFile?: string,
  ) {
    this.earlier = earlierFile && existsSync(earlierFile) ? readRows(earlierFile) : [];
  }

  /** The evaluator's callback for the runs of one slot. */
  collector(slot: number): (part: RetrievalPart) => void {
    return (part) => {
      const list = this.pending.get(slot) ?? [];
      list.push(part);
      this.pending.set(slot, list);
    };
  }

  /** A run starts (again): rows of an earlier attempt in this process are dropped. */
  runStarted(runId: string, slot: number): void {
    this.rows.set(runId, []);
    this.pending.delete(slot);
  }

  /** The pipeline finished evaluating `step` of `runId` on `slot`: the pending figures are that step's. */
  stepDone(runId: string, step: number, slot = 0): void {
    const rows = this.runRows(runId);
    for (const p of this.pending.get(slot) ?? []) {
      rows.push({
        run_id: runId,
        step: String(step),
        task_index: String(p.taskIndex),
        task_id: p.taskId,
        dataset: p.dataset,
        pairs: String(p.pairs),
        k: String(this.k),
        i2t_r1: String(p.imageToTextR1),
        i2t_r5: String(p.imageToTextR5),
        t2i_r1: String(p.textToImageR1),
        t2i_r5: String(p.textToImageR5),
        score: String(p.score),
      });
    }
    this.pending.delete(slot);
  }

  /** A resumed step was not evaluated again: keep what the earlier run recorded for it. */
  stepResumed(runId: string, step: number): void {
    this.runRows(runId).push(...this.earlier.filter((r) => r.run_id === runId && r.step === String(step)));
  }

  /** A finished run kept from the results folder: all its earlier rows. */
  runKept(runId: string): void {
    this.rows.set(
      runId,
      this.earlier.filter((r) => r.run_id === runId),
    );
  }

  get size(): number {
    let n = 0;
    for (const r of this.rows.values()) n += r.length;
    return n;
  }

  /**
   * Writes <out>/retrieval.csv (or retrieval.<suffix>.csv; atomically) with the rows of `runIds` in that
   * order, when there is anything to write; returns its path.
   */
  async write(out: string, runIds: readonly string[], suffix?: string): Promise<string | undefined> {
    const rows = runIds.flatMap((id) => this.rows.get(id) ?? []);
    if (rows.length === 0) return undefined;
    await mkdir(out, { recursive: true });
    const path = join(out, retrievalFileName(suffix));
    const text = stringify([[...RETRIEVAL_COLUMNS], ...rows.map((r) => RETRIEVAL_COLUMNS.map((c) => r[c]))]);
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
    return path;
  }

  private runRows(runId: string): Row[] {
    let rows = this.rows.get(runId);
    if (!rows) this.rows.set(runId, (rows = []));
    return rows;
  }
}

/** retrieval.csv, or retrieval.<suffix>.csv for a shard. */
export function retrievalFileName(suffix?: string): string {
  return suffix ? `retrieval.${suffix}.csv` : RETRIEVAL_FILE;
}

function readRows(file: string): Row[] {
  const rows = csvObjects(readFileSync(file, 'utf8'));
  const missing = RETRIEVAL_COLUMNS.filter((c) => rows.length > 0 && !(c in rows[0]));
  if (missing.length) fail('DATA', `${file}: not a retrieval results file (missing columns ${missing.join(', ')})`);
  return rows as Row[];
}
