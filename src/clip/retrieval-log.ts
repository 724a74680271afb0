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
 * step that was just evaluated. With resume, rows of steps that are skipped come from the earlier file.
 */
export class RetrievalLog {
  private pending: RetrievalPart[] = [];
  private readonly rows: Row[] = [];
  private readonly earlier: Row[];

  constructor(
    private readonly k: number,
    earlierFile?: string,
  ) {
    this.earlier = earlierFile && existsSync(earlierFile) ? readRows(earlierFile) : [];
  }

  /** The evaluator's callback. */
  readonly collect = (part: RetrievalPart): void => {
    this.pending.push(part);
  };

  /** The pipeline finished evaluating `step` of `runId`: the pending figures are that step's. */
  stepDone(runId: string, step: number): void {
    for (const p of this.pending) {
      this.rows.push({
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
    this.pending = [];
  }

  /** A resumed step was not evaluated again: keep what the earlier run recorded for it. */
  stepResumed(runId: string, step: number): void {
    this.rows.push(...this.earlier.filter((r) => r.run_id === runId && r.step === String(step)));
  }

  get size(): number {
    return this.rows.length;
  }

  /** Writes <out>/retrieval.csv (atomically) when there is anything to write; returns its path. */
  async write(out: string): Promise<string | undefined> {
    if (this.rows.length === 0) return undefined;
    await mkdir(out, { recursive: true });
    const path = join(out, RETRIEVAL_FILE);
    const text = stringify([[...RETRIEVAL_COLUMNS], ...this.rows.map((r) => RETRIEVAL_COLUMNS.map((c) => r[c]))]);
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
    return path;
  }
}

function readRows(file: string): Row[] {
  const rows = csvObjects(readFileSync(file, 'utf8'));
  const missing = RETRIEVAL_COLUMNS.filter((c) => rows.length > 0 && !(c in rows[0]));
  if (missing.length) fail('DATA', `${file}: not a retrieval results file (missing columns ${missing.join(', ')})`);
  return rows as Row[];
}
