// Builds the WebAssembly SIMD kernels from ./assembly/kernels.ts (AssemblyScript) into ./kernels.wasm.
// Run by `npm run build:wasm` and by `prepare` on install. The output is written to a temporary name
// and renamed when complete. Without AssemblyScript (an install without devDependencies) it says so
// and exits 0: the TypeScript kernels compute the same values, only slower.
import { renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const source = here('./assembly/kernels.ts');
const out = here('./kernels.wasm');
const tmp = `${out}.${process.pid}.tmp`;

let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch {
  console.warn('build:wasm: assemblyscript is not installed; using the TypeScript kernels');
  process.exit(0);
}
const { error, stderr } = await asc.main(
  [source, '--outFile', tmp, '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--initialMemory', '1'],
  {},
);
if (error) {
  rmSync(tmp, { force: true });
  console.error(`build:wasm: ${source}: ${error.message}\n${stderr.toString()}`);
  process.exit(1);
}
renameSync(tmp, out);
console.log(`build:wasm: ${out}`);
