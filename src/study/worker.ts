import { parentPort } from 'node:worker_threads';
import { TimeMergeError } from '../params/errors.js';
import { studyDiagnostics } from './diagnostics-run.js';
import { executeRun } from './execute.js';
import type { FromWorker, ToWorker } from './pool.js';

const port = parentPort;
if (!port) throw new Error('src/study/worker.ts must run in a worker thread');

port.on('message', async (msg: ToWorker) => {
  if (msg.type === 'diagnostics') {
    port.postMessage({ type: 'diagnostics', rows: await studyDiagnostics(msg.runs) } satisfies FromWorker);
    return;
  }
  const { spec } = msg;
  try {
    const out = await executeRun(spec, (e) => {
      if (e.type === 'step')
        port.postMessage({ type: 'progress', runId: spec.runId, step: e.step, T: e.T } satisfies FromWorker);
    });
    port.postMessage({ type: 'done', runId: spec.runId, ...out } satisfies FromWorker);
  } catch (e) {
    const err = e as Error;
    port.postMessage({
      type: 'error',
      runId: spec.runId,
      message: err.message,
      code: e instanceof TimeMergeError ? e.code : undefined,
      stack: err.stack,
    } satisfies FromWorker);
  }
});
