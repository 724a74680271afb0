import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMergeConfig } from '../src/cli/commands/merge.js';
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
  return {
    tmp,
    model,
    async write(name: string, tensors: Record<string, number[]>): Promise<void> {
      await writeSafetensors(join(tmp.dir, name), model(tensors), { metadata: { format: 'pt' } });
    },
    async merge(yaml: string, name: string): Promise<ParamSet> {
      const path = join(tmp.dir, `${name}.yaml`);
      writeFileSync(path, `${yaml}\noutput: ${name}.safetensors\n`);
      await runMergeConfig(path, { progress: false });
      return readSafetensors(join(tmp.dir, `${name}.safetensors`));
    },
    values: (p: ParamSet, name: string) => [...p.data(name)],
  };
}
