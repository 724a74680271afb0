"""CPU time per image of the loaders' work, on originals and on prepared 224px variants:

    PYTHONPATH=engines/torch python3 -m time_merge_torch.decode_costs

For three photo sizes, six generated JPEGs each (as the GPU check makes them), prepared as `time-merge clip
prepare` does; per image, the training view (decode + RandomResizedCrop to 224, bicubic) and the evaluation
view (decode + resize + centre crop), in milliseconds of this process's CPU time (so other jobs on the
machine inflate them less than wall time). Prints one JSON object.
"""
import json
import os
import tempfile
import time

from .bench import PHOTO_SIZES, _make_one
from .images import decode, eval_view, train_view
from .prepare import prepare_one, variant_path

SIZES = [(500, 375), (800, 600), (1600, 1200)]


def cpu_ms(fn, paths, repeats=5):
    t = time.process_time()
    for _ in range(repeats):
        for p in paths:
            fn(p)
    return round((time.process_time() - t) / (repeats * len(paths)) * 1000, 2)


def main():
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for size in SIZES:
            i = PHOTO_SIZES.index(size)
            pairs = []
            for k in range(6):
                rel = _make_one((i + len(PHOTO_SIZES) * k, d))
                dst = variant_path(os.path.join(d, 'prepared'), rel)
                prepare_one((os.path.join(d, rel), dst, 224))
                pairs.append((os.path.join(d, rel), dst))
            for label, j in (('original', 0), ('prepared', 1)):
                paths = [p[j] for p in pairs]
                out[f'{size[0]}x{size[1]} {label}'] = {
                    'train_view_ms': cpu_ms(lambda p: train_view(decode(p), 224, 7), paths),
                    'eval_view_ms': cpu_ms(lambda p: eval_view(decode(p), 224), paths),
                }
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
