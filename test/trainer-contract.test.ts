/** The trainers that run in-process, through the contract the TIME pipeline relies on (test/trainer-contract.ts). */
import { describe, it } from 'vitest';
import { syntheticSetup } from '../src/synthetic/setup.js';
import { NO_REPLAY } from '../src/time/types.js';
import { checkTrainerContract } from './trainer-contract.js';

describe('trainer contract', () => {
  it('the synthetic trainer (with and without its memo)', async () => {
    for (const cacheSize of [0, 16]) {
      const s = syntheticSetup(
        { T: 3, datasets: 2, stepsPerTask: 6, pretrainSteps: 40, zeroshotTasks: 1 },
        { cacheSize },
      );
      const [t1, t2, t3] = s.world.stream.adaptation;
      const request = {
        init: s.base,
        tasks: [t2],
        previous: [t1],
        replay: { pretrain: 0.2, current: 0.6, buffer: 0.2 },
        steps: 6,
        seed: 11,
      };
      await checkTrainerContract(s.trainer, request, { seed: 12, tasks: [t3] });
      await checkTrainerContract(s.trainer, { ...request, replay: NO_REPLAY, steps: 0 }, { seed: 12, tasks: [t3] });
    }
  });
});
