import { fail } from '../params/errors.js';

/**
 * Runs every item on `count` slots at once (worker threads, torch processes, GPUs: whatever a slot
 * stands for is the caller's), each slot taking the next item when its last one is done. A slot never
 * runs two items at once. After a failure no slot takes another item; the items in flight finish (so
 * their results are kept) and the first error is thrown.
 */
export async function runSlots<T, O>(
  items: readonly T[],
  count: number,
  run: (item: T, slot: number) => Promise<O>,
  /** Awaited before that slot takes its next item; calls are never concurrent with each other. */
  onDone: (item: T, out: O, slot: number) => Promise<void> | void,
): Promise<void> {
  if (!Number.isInteger(count) || count < 1) fail('CONFIG', `need at least one run slot, got ${count}`);
  const queue = [...items];
  let failure: { error: unknown } | undefined;
  // Completions are handled one at a time, so the folder writes they trigger never overlap.
  let serial: Promise<void> = Promise.resolve();
  const slot = async (index: number): Promise<void> => {
    for (let item = queue.shift(); item !== undefined && !failure; item = queue.shift()) {
      const current = item;
      try {
        const out = await run(current, index);
        const handled = serial.then(() => onDone(current, out, index));
        serial = handled.catch(() => undefined);
        await handled;
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, Math.max(1, items.length)) }, (_, i) => slot(i)));
  if (failure) throw failure.error;
}

/**
 * `--gpus 0,1,3`: GPU ordinals, one run slot each. Duplicates, non-integers and an empty list are
 * errors, since a GPU listed twice would run two runs at once on it.
 */
export function parseGpus(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (text.trim() === '' || parts.some((p) => p === ''))
    fail('CONFIG', `--gpus "${text}": expected GPU numbers separated by commas, e.g. 0,1,2,3`);
  const gpus = parts.map((p) => {
    if (!/^\d+$/.test(p)) fail('CONFIG', `--gpus "${text}": "${p}" is not a GPU number (a non-negative integer)`);
    return Number(p);
  });
  const twice = gpus.find((g, i) => gpus.indexOf(g) !== i);
  if (twice !== undefined)
    fail('CONFIG', `--gpus "${text}": GPU ${twice} is listed twice (each GPU runs one run at a time)`);
  return gpus;
}

/** `--workers n`: a positive integer. */
export function parseWorkers(text: string | number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail('CONFIG', `--workers "${text}" must be a positive integer`);
  return n;
}

/** The run slots from --workers and --gpus (at most one of them): default one slot. */
export function slotPlan(workers?: string, gpus?: string): { count: number; gpus?: number[] } {
  if (workers !== undefined && gpus !== undefined)
    fail('CONFIG', '--workers and --gpus both set the runs at once: give one (--gpus runs one run per GPU)');
  if (gpus !== undefined) {
    const list = parseGpus(gpus);
    return { count: list.length, gpus: list };
  }
  return { count: workers === undefined ? 1 : parseWorkers(workers) };
}
