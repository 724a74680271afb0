/**
 * Whether the torch engine's tests can run: Python 3 with torch, numpy and PIL (chosen by the engine's rule,
 * choosePython: TIME_MERGE_PYTHON, else the first python3 on PATH that imports torch, else the system one). Without them the tests skip with a line naming what to install; under
 * TIME_MERGE_REQUIRE_TORCH=1 (CI) a missing torch is a failure instead.
 */
import { choosePython, TORCH_INSTALL_HINT, type TorchProbe } from '../src/clip/engine.js';

export const TORCH: TorchProbe = (await choosePython()).probe;

if (!TORCH.ok) {
  const line = `torch engine tests: ${TORCH.reason}; ${TORCH_INSTALL_HINT}`;
  if (process.env.TIME_MERGE_REQUIRE_TORCH === '1') throw new Error(`${line} (TIME_MERGE_REQUIRE_TORCH=1)`);
  console.warn(`skipping ${line}`);
}
