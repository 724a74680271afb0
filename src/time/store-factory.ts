import { join } from 'node:path';
import { fail } from '../params/errors.js';
import { DiskStore } from './disk-store.js';
import { MemoryStore, type CheckpointStore } from './store.js';

export type StoreSpec = { readonly kind: 'memory' } | { readonly kind: 'disk'; readonly dir: string };

/** The store a run asked for; a resumable run keeps its experts on disk (default resumeDir/experts). */
export async function createStore(spec: StoreSpec | undefined, resumeDir?: string): Promise<CheckpointStore> {
  if (resumeDir !== undefined) {
    if (spec?.kind === 'memory')
      fail('CONFIG', `resumeDir ${resumeDir}: a resumable run needs a disk store, not store kind "memory"`);
    return DiskStore.open(spec?.kind === 'disk' ? spec.dir : join(resumeDir, 'experts'));
  }
  if (!spec || spec.kind === 'memory') return new MemoryStore();
  if (spec.kind === 'disk') {
    if (!spec.dir) fail('CONFIG', 'store kind "disk" needs a dir');
    return DiskStore.open(spec.dir);
  }
  return fail('CONFIG', `unknown store kind "${(spec as { kind: string }).kind}" (known: memory, disk)`);
}
