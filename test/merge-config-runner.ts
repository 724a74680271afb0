import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MergeRunSummary, runMergeConfig } from '../src/cli/commands/merge.js';
import { ParamSet } from '../src/params/paramset.js';
import { readSafetensors, writeSafetensors } from '../src/params/safetensors/index.js';
import { tempDir } from './fixtures/safetensors/build.js';

/**
 * Toolkit configs run as their users write them: 1-d models written into one temporary directory, a
 * config text merged there through the merge command's runner, and the output read back.
 */
export function configRunner(prefix: string) {
  const tmp = tempDir(prefix);
  const model = (tensors: Record<string, number[]>) =>
    ParamSet.fromEntries(
      Object.entries(tensors).map(([k, v]) => [k, { shape: [v.length], data: Float32Array.from(v) }]),
    );
  /** Runs the config into NAME.safetensors; the summary holds the merge's notes. */
  const run = async (yaml: string, name: string): Promise<MergeRunSummary> => {
    const path = join(tmp.dir, `${name}.yaml`);
    writeFileSync(path, `${yaml}\noutput: ${name}.safetensors\n`);
    return runMergeConfig(path, { progress: false });
  };
  return {
    tmp,
    model,
    run,
    async write(name: string, tensors: Record<string, number[]>): Promise<void> {
      await writeSafetensors(join(tmp.dir, name), model(tensors), { metadata: { format: 'pt' } });
    },
    async merge(yaml: string, name: string): Promise<ParamSet> {
      await run(yaml, name);
      return readSafetensors(join(tmp.dir, `${name}.safetensors`));
    },
    values: (p: ParamSet, name: string) => [...p.data(name)],
  };
}
