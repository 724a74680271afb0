import { Worker } from 'node:worker_threads';
import { TimeMergeError, type ErrorCode } from '../params/errors.js';
import type { DiagnosticsRow } from './diagnostics-run.js';
import type { ExecutedRun } from './execute.js';
import type { RunSpec } from './types.js';

export type ToWorker = { type: 'run'; spec: RunSpec } | { type: 'diagnostics'; runs: readonly RunSpec[] };
export type FromWorker =
  | { type: 'progress'; runId: string; step: number; T: number }
  | { type: 'diagnostics'; rows: DiagnosticsRow[] }
  | ({ type: 'done'; runId: string } & ExecutedRun)
  | { type: 'error'; runId: string; message: string; code?: ErrorCode; stack?: string };

/**
 * A worker thread running src/study/worker.ts. From the compiled tree (dist/) the worker is plain
 * JavaScript; from source it needs tsx registered first.
 */
export function studyThread(): Worker {
  const compiled = import.meta.url.endsWith('.js');
  const entry = new URL(compiled ? './worker.js' : './worker.ts', import.meta.url).href;
  const boot = compiled ? new URL(entry) : new URL('./worker-boot.mjs', import.meta.url);
  return new Worker(boot, { workerData: { entry } });
}

/**
 * Synthetic runs on worker threads, one thread per slot (started when the slot takes its first run),
 * even for one slot: the main thread stays free to answer Ctrl-C at once. Results do not depend on
 * which thread runs what: each run's randomness comes from its spec alone.
 */
export class ThreadPool {
  private readonly threads = new Map<number, Worker>();

  constructor(readonly slots: number) {}

  run(spec: RunSpec, slot: number, onStep?: (step: number, T: number) => void): Promise<ExecutedRun> {
    const w = this.thread(slot);
    return new Promise<ExecutedRun>((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'diagnostics' || msg.runId !== spec.runId) return;
        if (msg.type === 'progress') {
          onStep?.(msg.step, msg.T);
          return;
        }
        w.off('message', onMessage);
        w.off('error', onError);
        if (msg.type === 'done') resolve(msg);
        else
          reject(
            msg.code
              ? new TimeMergeError(msg.code, `run ${msg.runId}: ${msg.message}`)
              : new Error(`run ${msg.runId}: ${msg.message}\n${msg.stack ?? ''}`),
          );
      };
      const onError = (e: Error) => {
        w.off('message', onMessage);
        reject(e);
      };
      w.on('message', onMessage);
      w.once('error', onError);
      w.postMessage({ type: 'run', spec } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.threads.values()].map((t) => t.terminate()));
    this.threads.clear();
  }

  private thread(slot: number): Worker {
    let w = this.threads.get(slot);
    if (!w) {
      w = studyThread();
      this.threads.set(slot, w);
    }
    return w;
  }
}
