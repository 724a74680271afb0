import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The src/ folders a file imports from (static and dynamic imports, relative paths only). */
function importedLayers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\()\s*'(\.[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)).split('/')[0]!);
}

describe('layering (DESIGN.md section 7)', () => {
  it('the study layer and the layers below it never import src/clip', () => {
    const offenders = ['study', 'time', 'params', 'merge'].flatMap((layer) =>
      sources(join(SRC, layer)).flatMap((f) => (importedLayers(f).includes('clip') ? [relative(SRC, f)] : [])),
    );
    expect(offenders).toEqual([]);
  });

  it('finds an import of src/clip where there is one (the check can fail)', () => {
    expect(importedLayers(join(SRC, 'clip/kinds/torch.ts'))).toContain('clip');
    expect(importedLayers(join(SRC, 'clip/kinds/torch.ts'))).toContain('study');
  });
});
