import { expect } from 'vitest';
import type { ParamSet } from '../src/params/paramset.js';
import type { Trainer, TrainRequest } from '../src/time/types.js';

function snapshot(p: ParamSet): Map<string, number[]> {
  return new Map([...p.entries()].map(([name, t]) => [name, [...t.data]]));
}

/**
 * What the TIME pipeline relies on from any trainer, checked on one request: the init weights are left
 * as they were; the expert has the init's tensors and shapes, only finite values, and at most the step
 * budget; the same request gives the same bits (every random choice comes from request.seed); another
 * seed or another task gives another expert.
 */
export async function checkTrainerContract<D>(
  trainer: Trainer<D>,
  request: TrainRequest<D>,
  other: { seed: number; tasks: TrainRequest<D>['tasks'] },
): Promise<void> {
  const before = snapshot(request.init);
  const a = await trainer.train(request);
  expect(snapshot(request.init), 'the init weights are not modified').toEqual(before);
  expect(a.weights.tensorInfos().map((i) => [i.name, i.shape])).toEqual(
    request.init.tensorInfos().map((i) => [i.name, i.shape]),
  );
  for (const [name, t] of a.weights.entries())
    expect(t.data.every(Number.isFinite), `tensor ${name} is finite`).toBe(true);
  expect(a.steps).toBeGreaterThanOrEqual(0);
  expect(a.steps).toBeLessThanOrEqual(request.steps);
  const again = await trainer.train(request);
  expect(snapshot(again.weights), 'the same request gives the same bits').toEqual(snapshot(a.weights));
  if (request.steps > 0) {
    expect(
      snapshot((await trainer.train({ ...request, seed: other.seed })).weights),
      'another seed, another expert',
    ).not.toEqual(snapshot(a.weights));
    expect(
      snapshot((await trainer.train({ ...request, tasks: other.tasks })).weights),
      'another task, another expert',
    ).not.toEqual(snapshot(a.weights));
  }
}
