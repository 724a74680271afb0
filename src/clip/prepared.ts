import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { fail } from '../params/errors.js';
import { writeAtomic } from '../time/results.js';
import type { FomoData } from './data.js';
import { TORCH_ENGINE_DIR } from './engine.js';
import type { Sample } from './fomo.js';

/**
 * Resized variants of a tree's images (`time-merge clip prepare`), as fomo_in_flux's
 * create_resized_variant_if_possible makes them: shorter side 224, written once under a cache folder that
 * mirrors the originals' paths (engines/torch/time_merge_torch/prepare.py does the work, over all cores).
 * prepared.json in that folder says which list of images was prepared and which images could not be read.
 */
export const PREPARED_SIZE = 224;
export const MANIFEST = 'prepared.json';

export interface PreparedManifest {
  readonly size: number;
  readonly images: number;
  /** sha256 of the sorted relative paths: which list of images was prepared. */
  readonly listHash: string;
  /** Unreadable or truncated images: [relative path, reason]; runs leave them out. */
  readonly bad: readonly (readonly [string, string])[];
  readonly written: number;
  readonly kept: number;
  readonly seconds: number;
}

/** An image's path relative to the data folder (the cache mirrors it). */
export function relativeImage(data: FomoData, s: Sample): string {
  return relative(data.layout.dataDir, s.path);
}

export function variantPath(cache: string, rel: string): string {
  return `${join(cache, rel)}.jpg`;
}

function listHash(rels: readonly string[]): string {
  return createHash('sha256')
    .update([...rels].sort().join('\n'))
    .digest('hex');
}

function readManifest(cache: string): PreparedManifest {
  const file = join(cache, MANIFEST);
  if (!existsSync(file))
    fail(
      'DATA',
      `${file} not found: data.prepared names a cache of resized images; run "time-merge clip prepare CONFIG" first`,
    );
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PreparedManifest;
  } catch (err) {
    fail('DATA', `${file}: not a prepare manifest (${(err as Error).message})`);
  }
}

/**
 * Before a run: every image the run can read must have its variant in the cache or be listed as
 * unreadable; otherwise the run refuses, naming the first ones. The listed ones are left out of the data
 * (with a count in the log), and the torch engine reads the variants.
 */
export function usePrepared(
  cache: string,
  data: FomoData,
  images: readonly Sample[],
  log: (msg: string) => void,
  variants: boolean,
): { excluded: number } {
  const m = readManifest(cache);
  const rels = images.map((s) => relativeImage(data, s));
  const bad = new Map(m.bad.map(([r, why]) => [r, why]));
  // Every file is checked (seconds for millions on a local disk): a variant deleted or never written
  // would otherwise stop the run hours in, in a loader process.
  const missing = rels.filter((r) => !bad.has(r) && !existsSync(variantPath(cache, r)));
  if (missing.length > 0)
    fail(
      'DATA',
      `${missing.length} image(s) of this run have no prepared variant in ${cache} (${missing
        .slice(0, 3)
        .join(', ')}${missing.length > 3 ? ', ...' : ''}); run "time-merge clip prepare CONFIG"`,
    );
  const excluded = images.filter((s) => bad.has(relativeImage(data, s)));
  if (excluded.length > 0) {
    log(
      `data: ${excluded.length} unreadable image(s) left out, as listed in ${join(cache, MANIFEST)} (first: ${relativeImage(data, excluded[0])}: ${bad.get(relativeImage(data, excluded[0]))})`,
    );
    data.exclude(excluded.map((s) => s.path));
  }
  if (variants) data.useVariants((s) => variantPath(cache, relativeImage(data, s)));
  log(`data: ${variants ? 'reading' : 'checked'} the ${PREPARED_SIZE}px variants in ${cache}`);
  return { excluded: excluded.length };
}

/** Writes the variants of `images` that are not in the cache yet, over `workers` processes, and the manifest. */
export async function prepareImages(
  python: string,
  cache: string,
  data: FomoData,
  images: readonly Sample[],
  log: (msg: string) => void,
  workers = cpus().length,
): Promise<PreparedManifest> {
  await mkdir(cache, { recursive: true });
  const rels = images.map((s) => relativeImage(data, s));
  const list = join(cache, `.list-${process.pid}.txt`);
  await writeFile(list, `${rels.join('\n')}\n`);
  try {
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const child = spawn(
        python,
        [
          '-m',
          'time_merge_torch.prepare',
          '--list',
          list,
          '--root',
          data.layout.dataDir,
          '--out',
          cache,
          '--size',
          String(PREPARED_SIZE),
          '--workers',
          String(workers),
        ],
        { env: { ...process.env, PYTHONPATH: TORCH_ENGINE_DIR }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const lines = err.split('\n');
        err = lines.pop() ?? '';
        for (const l of lines)
          if (l.startsWith('prepare: ')) log(`  ${l}`);
          else if (l.trim()) log(`  python: ${l}`);
      });
      child.on('error', (e) => reject(new Error(`${python} cannot be started (${e.message})`)));
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`clip prepare: ${python} exited ${code}: ${err.trim()}`));
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
      });
    });
    const manifest: PreparedManifest = {
      size: PREPARED_SIZE,
      images: rels.length,
      listHash: listHash(rels),
      bad: reply.bad as [string, string][],
      written: reply.written as number,
      kept: reply.kept as number,
      seconds: reply.seconds as number,
    };
    await writeAtomic(join(cache, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    return manifest;
  } finally {
    await rm(list, { force: true });
  }
}
