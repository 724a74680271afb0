"""Resized variants of a FoMo-in-Flux tree's images, written once, as fomo_in_flux's
create_resized_variant_if_possible does: shorter side resized to SIZE (bicubic; smaller images kept at
their size), RGB, JPEG quality 95, under a cache folder mirroring the originals' relative paths.

    python3 -m time_merge_torch.prepare --list images.txt --root DATA_DIR --out CACHE [--size 224] [--workers N]

Resumable: a variant already in the cache is not written again (each is written to a temporary name and
renamed, so a cut run leaves no half file). Unreadable or truncated images are listed, not fatal. 16-bit
images (PNG I;16, I) are scaled to 8 bits, not clipped. One JSON line on stdout at the end:
{"images": n, "written": w, "kept": k, "bad": [[path, reason], ...], "seconds": s}.
"""
import argparse
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # some FoMo-in-Flux sources are large scans; they are trusted local files


def variant_path(out, rel):
    return os.path.join(out, rel + '.jpg')


def to_rgb(im):
    """RGB 8-bit, with 16- and 32-bit integer images scaled to 8 bits (PIL's convert would clip them)."""
    if im.mode in ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I'):
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith('I;16') or a.max() > 255 else 255.0
        a = np.clip(np.round(a * (255.0 / top)), 0, 255).astype(np.uint8)
        return Image.fromarray(a, 'L').convert('RGB')
    if im.mode == 'F':
        a = np.asarray(im, dtype=np.float64)
        top = 1.0 if a.max() <= 1.0 else 255.0
        return Image.fromarray(np.clip(np.round(a * (255.0 / top)), 0, 255).astype(np.uint8), 'L').convert('RGB')
    if im.mode in ('RGBA', 'LA', 'PA') or (im.mode == 'P' and 'transparency' in im.info):
        im = im.convert('RGBA')
        bg = Image.new('RGBA', im.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, im).convert('RGB')
    return im.convert('RGB')


def resize_shorter(im, size):
    w, h = im.size
    s = size / min(w, h)
    if s >= 1:
        return im
    return im.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BICUBIC)


def prepare_one(job):
    src, dst, size = job
    if os.path.exists(dst):
        return 'kept', None
    try:
        with Image.open(src) as im:
            im.load()  # a truncated file raises here, not later in a loader
            out = resize_shorter(to_rgb(im), size)
    except Exception as err:  # PIL raises many types; the reason is what the user needs
        return 'bad', f'{type(err).__name__}: {err}'
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = f'{dst}.{os.getpid()}.tmp'
    out.save(tmp, 'JPEG', quality=95)
    os.replace(tmp, dst)
    return 'written', None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--list', required=True, help='one image path a line, relative to --root')
    ap.add_argument('--root', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    a = ap.parse_args(argv)
    rels = [line.rstrip('\n') for line in open(a.list) if line.strip()]
    jobs = [(os.path.join(a.root, r), variant_path(a.out, r), a.size) for r in rels]
    started = time.perf_counter()
    counts = {'written': 0, 'kept': 0}
    bad = []
    every = max(1, len(jobs) // 20)

    def tally(i, rel, result):
        kind, reason = result
        if kind == 'bad':
            bad.append([rel, reason])
        else:
            counts[kind] += 1
        if (i + 1) % every == 0 or i + 1 == len(jobs):
            print(f'prepare: {i + 1}/{len(jobs)} images ({counts["written"]} written, {counts["kept"]} kept, '
                  f'{len(bad)} bad), {time.perf_counter() - started:.0f} s', file=sys.stderr, flush=True)

    if a.workers > 1 and len(jobs) > 1:
        with Pool(a.workers) as pool:
            for i, result in enumerate(pool.imap(prepare_one, jobs, chunksize=64)):
                tally(i, rels[i], result)
    else:
        for i, job in enumerate(jobs):
            tally(i, rels[i], prepare_one(job))
    print(json.dumps({'images': len(jobs), **counts, 'bad': bad, 'seconds': time.perf_counter() - started}))


if __name__ == '__main__':
    main()
