import { join } from 'node:path';
import { fail } from '../params/errors.js';
import { streamImages } from './data.js';
import { choosePython, PYTHON_SOURCES, TORCH_INSTALL_HINT } from './engine.js';
import { MANIFEST, PREPARED_SIZE, prepareImages, type PreparedManifest } from './prepared.js';
import { type ClipStudy, openClipData } from './study.js';

/**
 * `time-merge clip prepare CONFIG`: the resized variants of every image the study can read, into the
 * cache folder that `data.prepared` names. Resumable (variants already there are kept) and spread over all
 * cores; unreadable images are listed in the manifest and left out of runs.
 */
export async function prepareClipStudy(
  s: ClipStudy,
  log: (msg: string) => void = console.log,
  workers?: number,
): Promise<PreparedManifest> {
  const cache = s.data.prepared;
  if (!cache)
    fail(
      'CONFIG',
      'clip prepare: set "data.prepared" to the cache folder for the resized images (true: <data.root>/time-merge-224)',
    );
  const { data, stream } = openClipData(s, log);
  const images = streamImages(data, stream, s.pretrain ?? []);
  const { source, probe } = await choosePython(s.python);
  if (!probe.ok) fail('CONFIG', `clip prepare: ${probe.reason}; ${TORCH_INSTALL_HINT}`);
  log(`python: ${probe.python} (${PYTHON_SOURCES[source]})`);
  log(`prepare: ${images.length} images of stream ${stream.name} -> ${PREPARED_SIZE}px variants in ${cache}`);
  const m = await prepareImages(probe.python, cache, data, images, log, workers);
  log(
    `prepared ${m.images} images in ${m.seconds.toFixed(1)} s: ${m.written} written, ${m.kept} already there, ${m.bad.length} unreadable${m.bad.length ? ` (listed in ${join(cache, MANIFEST)}; runs leave them out)` : ''}`,
  );
  for (const [rel, why] of m.bad.slice(0, 10)) log(`  unreadable: ${rel}: ${why}`);
  if (m.bad.length > 10) log(`  ... ${m.bad.length - 10} more`);
  return m;
}
