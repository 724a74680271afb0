import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TORCH_ENGINE_DIR } from '../src/clip/engine.js';
import { makeTinyClipTree, TINY_STUDY_COMMON } from './tiny-clip-tree.js';
import { TORCH } from './torch-available.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..');
const cli = (args: string[]) =>
  run(process.execPath, ['bin/time-merge.js', ...args], { cwd: REPO, maxBuffer: 1 << 24 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

/** Images made with PIL: a landscape JPEG, a small one, a 16-bit grey PNG, a truncated JPEG, not an image. */
const MAKE = `
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
Image.fromarray(np.full((480, 640, 3), (200, 40, 90), np.uint8)).save(f'{d}/wide.jpg', quality=95)
Image.fromarray(np.full((80, 100, 3), 7, np.uint8)).save(f'{d}/small.png')
Image.fromarray(np.full((300, 300), 32896, np.uint16)).save(f'{d}/deep.png')
Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 400, 3), np.uint8)).save(f'{d}/cut.jpg', quality=90)
open(f'{d}/cut.jpg', 'r+b').truncate(3000)
open(f'{d}/text.jpg', 'w').write('not an image')
`;

const READ = `
import sys, json, numpy as np
from PIL import Image
out = {}
for name in sys.argv[2:]:
    with Image.open(f'{sys.argv[1]}/{name}') as im:
        a = np.asarray(im.convert('RGB'))
        out[name] = [im.mode, im.width, im.height, int(a[a.shape[0] // 2, a.shape[1] // 2].mean().round())]
print(json.dumps(out))
`;

describe.skipIf(!TORCH.ok)('clip prepare: resized variants written once', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'prepare-py-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const prepare = async (cache: string) => {
    const env = { ...process.env, PYTHONPATH: TORCH_ENGINE_DIR };
    const { stdout } = await run(
      TORCH.python,
      [
        '-m',
        'time_merge_torch.prepare',
        '--list',
        join(root, 'list.txt'),
        '--root',
        root,
        '--out',
        cache,
        '--workers',
        '2',
      ],
      { env },
    );
    return JSON.parse(stdout) as { images: number; written: number; kept: number; bad: [string, string][] };
  };

  it('resizes the shorter side to 224, keeps smaller images, scales 16-bit images, lists unreadable ones, and resumes', async () => {
    if (!TORCH.ok) return;
    await run(TORCH.python, ['-c', MAKE, root]);
    await writeFile(join(root, 'list.txt'), 'wide.jpg\nsmall.png\ndeep.png\ncut.jpg\ntext.jpg\nmissing.jpg\n');
    const cache = join(root, 'cache');
    const first = await prepare(cache);
    expect([first.images, first.written, first.kept]).toEqual([6, 3, 0]);
    expect(first.bad.map(([p]) => p)).toEqual(['cut.jpg', 'text.jpg', 'missing.jpg']);
    expect(first.bad[0][1]).toMatch(/truncated|image file is truncated|broken data stream/i);
    const { stdout } = await run(TORCH.python, ['-c', READ, cache, 'wide.jpg.jpg', 'small.png.jpg', 'deep.png.jpg']);
    const got = JSON.parse(stdout) as Record<string, [string, number, number, number]>;
    expect(got['wide.jpg.jpg'].slice(0, 3)).toEqual(['RGB', 299, 224]);
    expect(got['small.png.jpg'].slice(0, 3)).toEqual(['RGB', 100, 80]);
    // 32896 of 65535 is 128 of 255; clipping to 8 bits would give 255.
    expect(got['deep.png.jpg']).toEqual(['RGB', 224, 224, 128]);
    const again = await prepare(cache);
    expect([again.written, again.kept, again.bad.length]).toEqual([0, 3, 3]);
  }, 120_000);
});

describe.skipIf(!TORCH.ok)('time-merge clip prepare, then a run on the variants', () => {
  let root: string;
  const study = (extra = '') =>
    `study: prepared\nT: 2\nsteps: 2\nbatch: 4\nmethods: [finetune]\nout: results\nengine: torch\nloaderWorkers: 2\n${TINY_STUDY_COMMON.replace(
      'data: { root: ., registry: datasets.json }',
      'data: { root: ., registry: datasets.json, prepared: true }',
    )}${extra}`;
  beforeAll(async () => {
    root = await makeTinyClipTree('prepare-cli-');
    await writeFile(join(root, 'study.yaml'), study());
    // One training image cut short, as a broken download leaves it.
    await truncate(join(root, 'data', 'COLOURS', 'train', 'red', '0.png'), 40);
  }, 30_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists the bad image, leaves it out of the run, reads the variants; a missing variant stops the next run', async () => {
    const cache = join(root, 'time-merge-224');
    const prep = await cli(['clip', 'prepare', join(root, 'study.yaml'), '--workers', '2']);
    expect(prep.code, prep.stderr).toBe(0);
    expect(prep.stdout).toMatch(
      /^prepared (\d+) images in [\d.]+ s: (\d+) written, 0 already there, 1 unreadable \(listed in .*prepared\.json; runs leave them out\)$/m,
    );
    expect(prep.stdout).toContain('  unreadable: COLOURS/train/red/0.png: ');
    const manifest = JSON.parse(readFileSync(join(cache, 'prepared.json'), 'utf8')) as {
      images: number;
      written: number;
    };
    expect(manifest.written).toBe(manifest.images - 1);
    expect(existsSync(join(cache, 'COLOURS', 'train', 'green', '0.png.jpg'))).toBe(true);

    const ok = await cli(['clip', join(root, 'study.yaml'), '--no-report']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(
      `data: 1 unreadable image(s) left out, as listed in ${join(cache, 'prepared.json')} (first: COLOURS/train/red/0.png: `,
    );
    expect(ok.stdout).toContain(`data: reading the 224px variants in ${cache}`);

    await unlink(join(cache, 'COLOURS', 'train', 'green', '0.png.jpg'));
    const refused = await cli(['clip', join(root, 'study.yaml'), '--no-report', '--out', join(root, 'again')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `time-merge: 1 image(s) of this run have no prepared variant in ${cache} (COLOURS/train/green/0.png); run "time-merge clip prepare CONFIG"`,
    );
    expect(existsSync(join(root, 'again'))).toBe(false);
  }, 240_000);
});
