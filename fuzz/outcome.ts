/**
 * How every fuzz case ends: a clean error (a TimeMergeError on one line that names the file or key at
 * fault), an exact accept (the result checked against an independent reading), or a defect (anything
 * else: another exception, a multi-line or anonymous message, a wrong value, a hang, a crash).
 */
import { TimeMergeError } from '../src/params/errors.js';

export type Verdict = 'clean-error' | 'exact-accept' | 'defect';

export interface CaseResult {
  readonly verdict: Verdict;
  /** For a defect: what went wrong; for a clean error: its code. */
  readonly detail?: string;
}

export const accept = (): CaseResult => ({ verdict: 'exact-accept' });
export const defect = (detail: string): CaseResult => ({ verdict: 'defect', detail });

/**
 * The verdict on an error: clean when it is a TimeMergeError whose message is one line of bounded length
 * that contains one of `names` (the file's path, the config's source, the key). Anything else is a defect.
 */
export function judgeError(err: unknown, names: readonly string[]): CaseResult {
  if (!(err instanceof TimeMergeError)) {
    const e = err as Error;
    return defect(`not a TimeMergeError: ${e?.name ?? typeof err}: ${String(e?.message ?? err).slice(0, 200)}`);
  }
  if (err.message.includes('\n')) return defect(`a multi-line message: ${err.message.slice(0, 200)}`);
  if (err.message.length > 4000) return defect(`a message of ${err.message.length} characters`);
  if (!names.some((n) => err.message.includes(n)))
    return defect(`the message names none of ${names.join(', ')}: ${err.message.slice(0, 200)}`);
  return { verdict: 'clean-error', detail: err.code };
}

/** Counts per verdict and the first defects, for one kind of case. */
export class Tally {
  readonly counts: Record<Verdict, number> = { 'clean-error': 0, 'exact-accept': 0, defect: 0 };
  readonly defects: string[] = [];
  readonly codes = new Map<string, number>();

  add(r: CaseResult, replay: string): void {
    this.counts[r.verdict]++;
    if (r.verdict === 'clean-error' && r.detail) this.codes.set(r.detail, (this.codes.get(r.detail) ?? 0) + 1);
    if (r.verdict === 'defect' && this.defects.length < 20) this.defects.push(`${replay}: ${r.detail}`);
  }

  get total(): number {
    return this.counts['clean-error'] + this.counts['exact-accept'] + this.counts.defect;
  }
}
