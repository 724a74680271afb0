import { Worker } from 'node:worker_threads';
import { TimeMergeError, type ErrorCode } from '../params/errors.js';
import { executeRun, type ExecutedRun } from './execute.js';
import type { RunSpec } from './types.js';

export type ToWorker = { type: 'run'; spec: RunSpec };
export type FromWorker =
  | { type: 'progress'; runId: string; step: number; T: number }
  | ({ type: 'done'; runId: string } & ExecutedRun)
  | { type: 'error'; runId: string; message: string; code?: ErrorCode; stack?: string };

export interface PoolCallbacks {
  onStart?(spec: RunSpec, slot: number): void;
  onProgress?(spec: RunSpec, slot: number, step: number, T: number): void;
  /** Called once per run, in completion order; awaited before that slot takes its next run. */
  onDone(spec: RunSpec, out: ExecutedRun, slot: number): Promise<void> | void;
}

/**
 * Runs every spec, on `workers` worker threads (or in this thread when workers is 1). Results do not
 * depend on which thread runs what: each run's randomness comes from its spec alone.
 */
export async function runPool(specs: readonly RunSpec[], workers: number, cb: PoolCallbacks): Promise<void> {
  if (specs.length === 0) return;
  if (workers <= 1) {
    for (const spec of specs) {
      cb.onStart?.(spec, 0);
      const out = await executeRun(spec, (e) => {
        if (e.type === 'step') cb.onProgress?.(spec, 0, e.step, e.T);
      });
      await cb.onDone(spec, out, 0);
    }
    return;
  }
  const queue = [...specs];
  // From the compiled tree (dist/) the worker is plain JavaScript; from source it needs tsx registered first.
  const compiled = import.meta.url.endsWith('.js');
  const entry = new URL(compiled ? './worker.js' : './worker.ts', import.meta.url).href;
  const boot = compiled ? new URL(entry) : new URL('./worker-boot.mjs', import.meta.url);
  const threads: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let active = 0;
      let failed = false;
      const n = Math.min(workers, specs.length);
      for (let slot = 0; slot < n; slot++) {
        const w = new Worker(boot, { workerData: { entry } });
        threads.push(w);
        let current: RunSpec | undefined;
        const next = () => {
          current = queue.shift();
          if (!current) {
            if (--active === 0 && !failed) resolve();
            return;
          }
          cb.onStart?.(current, slot);
          w.postMessage({ type: 'run', spec: current } satisfies ToWorker);
        };
        w.on('message', (msg: FromWorker) => {
          if (failed || !current) return;
          if (msg.type === 'progress') cb.onProgress?.(current, slot, msg.step, msg.T);
          else if (msg.type === 'error') {
            failed = true;
            reject(
              msg.code
                ? new TimeMergeError(msg.code, `run ${msg.runId}: ${msg.message}`)
                : new Error(`run ${msg.runId}: ${msg.message}\n${msg.stack ?? ''}`),
            );
          } else {
            const spec = current;
            Promise.resolve(cb.onDone(spec, msg, slot)).then(next, (e) => {
              failed = true;
              reject(e);
            });
          }
        });
        w.on('error', (e) => {
          failed = true;
          reject(e);
        });
        active++;
        next();
      }
    });
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
