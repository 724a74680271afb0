import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, TimeMergeError } from '../params/errors.js';
import type { ParamSet } from '../params/paramset.js';
import { resolvedInitOptions, type Method } from './method.js';
import type { StepRecord } from './record.js';
import type { ReplayMix, TaskStream } from './types.js';
import { NO_REPLAY } from './types.js';
import { hasOwnKey } from '../params/own.js';
import { renameOver } from '../params/replace-target.js';

const LOG = 'run.json';

/** FNV-1a over the float32 bits of every tensor, so a resumed run can tell that θ0 is the same model. */
export function paramsHash(p: ParamSet): string {
  let h = 0x811c9dc5;
  for (const [name, t] of p.entries()) {
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

interface FingerprintInput {
  readonly stream: TaskStream;
  readonly base: ParamSet;
  readonly stepsPerTask: number;
  readonly seed: number;
  readonly replay?: ReplayMix;
  readonly method?: Method;
  readonly settings?: Readonly<Record<string, unknown>>;
}

/** Everything that decides a run's results; a resumed run must match it field by field. */
export async function runFingerprint(
  c: FingerprintInput,
  head: { method: string; init: string; deploy: string; technique: string },
): Promise<Record<string, unknown>> {
  const core: Record<string, unknown> = {
    method: head.method,
    init: head.init,
    initOptions: c.method ? resolvedInitOptions(c.method) : {},
    deploy: head.deploy,
    technique: head.technique,
    mergeParams: c.method?.merge.params ?? {},
    mergeSeed: c.method?.merge.seed ?? 0,
    seed: c.seed,
    stepsPerTask: c.stepsPerTask,
    replay: c.replay ?? NO_REPLAY,
    stream: c.stream.name,
    tasks: [...c.stream.adaptation, ...c.stream.zeroshot].map((t) => `${t.role}:${t.id}`),
    base: { tensors: c.base.tensorInfos().map((i) => `${i.name}[${i.shape.join(',')}]`), hash: paramsHash(c.base) },
  };
  // The caller's settings sit beside these, each its own key, so a refusal names the one that changed.
  for (const k of Object.keys(c.settings ?? {}))
    if (hasOwnKey(core, k))
      fail('CONFIG', `run setting "${k}" is already part of every run's fingerprint; give it another name`);
  return { ...core, ...c.settings };
}

/** The JSON log of a resumable run: its fingerprint and the record of every finished step. */
export class ResumeLog {
  private constructor(
    private readonly dir: string,
    private readonly fingerprint: Record<string, unknown>,
    readonly steps: StepRecord[],
  ) {}

  static async open(dir: string, fingerprint: Record<string, unknown>): Promise<ResumeLog> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, LOG);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return new ResumeLog(dir, fingerprint, []);
    }
    let doc: { fingerprint: Record<string, unknown>; steps: StepRecord[] };
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new TimeMergeError('CONFIG', `resume log ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    const diffs = Object.keys({ ...fingerprint, ...doc.fingerprint }).filter(
      (k) => JSON.stringify(fingerprint[k]) !== JSON.stringify(doc.fingerprint?.[k]),
    );
    if (diffs.length > 0) {
      const show = diffs
        .slice(0, 4)
        .map((k) => `${k}: recorded ${short(doc.fingerprint?.[k])}, now ${short(fingerprint[k])}`);
      fail(
        'CONFIG',
        `resume log ${path} was written by a different run (${show.join('; ')}); use another resumeDir or delete it`,
      );
    }
    const steps = Array.isArray(doc.steps) ? doc.steps : [];
    steps.forEach((s, i) => {
      if (s.step !== i) fail('CONFIG', `resume log ${path}: entry ${i} is for step ${s.step}; the log is damaged`);
    });
    return new ResumeLog(dir, fingerprint, steps);
  }

  async append(rec: StepRecord): Promise<void> {
    this.steps.push(rec);
    const path = join(this.dir, LOG);
    await writeFile(`${path}.tmp`, JSON.stringify({ fingerprint: this.fingerprint, steps: this.steps }, null, 1));
    await renameOver(`${path}.tmp`, path);
  }
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
