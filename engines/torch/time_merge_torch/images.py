"""Image views as the TypeScript engine and open_clip build them, with PIL: uint8 HWC arrays out."""
import math
import random

import numpy as np
from PIL import Image


def decode(path):
    try:
        with Image.open(path) as im:
            return im.convert('RGB')
    except Exception as err:  # PIL raises many types; the path is what the user needs
        raise ValueError(f'{path}: cannot decode image ({err})') from err


def random_resized_crop_box(width, height, rng, scale=(0.9, 1.0), ratio=(3 / 4, 4 / 3)):
    """torchvision's RandomResizedCrop box: 10 tries at a random area and log-uniform aspect, else a centre crop."""
    area = width * height
    log_r = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_r))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, width - w), rng.randint(0, height - h), w, h
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif in_ratio > ratio[1]:
        w, h = round(height * ratio[1]), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


def train_view(img, size, seed):
    """RandomResizedCrop(size, scale 0.9-1) drawn from `seed`, bicubic."""
    left, top, w, h = random_resized_crop_box(img.width, img.height, random.Random(seed))
    return np.array(img.resize((size, size), Image.BICUBIC, box=(left, top, left + w, top + h)))


def eval_view(img, size):
    """Shorter side resized to `size` (bicubic), centre crop: CLIP's evaluation transform."""
    s = size / min(img.width, img.height)
    w, h = max(size, round(img.width * s)), max(size, round(img.height * s))
    img = img.resize((w, h), Image.BICUBIC)
    left, top = int(round((w - size) / 2)), int(round((h - size) / 2))
    return np.array(img.crop((left, top, left + size, top + size)))
