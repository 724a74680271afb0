import seedrandom from 'seedrandom';
import { ParamSet } from '../params/paramset.js';
import type { ClipConfig } from './config.js';
import { openClipShapes } from './naming.js';

/** Gaussian samples (Box-Muller) from a seeded uniform source. */
function normal(rng: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * Fresh weights for a config, with open_clip's initialisation scales (normal draws; layer norms 1/0,
 * biases 0, logit scale ln(1/0.07)). For tests, demos and benchmarks: a real run starts from a checkpoint.
 */
export function initClipParams(c: ClipConfig, seed = 0): ParamSet {
  const ps = new ParamSet(`clip-init(seed ${seed})`);
  for (const [name, shape] of openClipShapes(c)) {
    // alea: seedrandom's fast generator (ViT-B/16 has 150M values to draw).
    const rng = seedrandom.alea(`clip-init/${seed}/${name}`);
    const n = shape.reduce((a, b) => a * b, 1);
    const visual = name.startsWith('visual.');
    const width = visual ? c.vision.width : c.text.width;
    const layers = visual ? c.vision.layers : c.text.layers;
    const attnStd = width ** -0.5;
    const projStd = attnStd * (2 * layers) ** -0.5;
    let data: Float32Array;
    if (name === 'logit_scale') data = Float32Array.of(Math.log(1 / 0.07));
    else if (/\.(ln_\d|ln_pre|ln_post)\.weight$|^ln_final\.weight$/.test(name)) data = new Float32Array(n).fill(1);
    else if (name.endsWith('bias')) data = new Float32Array(n);
    else if (name === 'token_embedding.weight') data = normal(rng, n, 0.02);
    else if (name === 'positional_embedding') data = normal(rng, n, 0.01);
    else if (name.endsWith('attn.in_proj_weight')) data = normal(rng, n, attnStd);
    else if (name.endsWith('attn.out_proj.weight') || name.endsWith('mlp.c_proj.weight'))
      data = normal(rng, n, projStd);
    else if (name.endsWith('mlp.c_fc.weight')) data = normal(rng, n, (2 * width) ** -0.5);
    else if (name === 'visual.conv1.weight') data = normal(rng, n, (3 * c.vision.patchSize ** 2) ** -0.5);
    else data = normal(rng, n, width ** -0.5); // class/positional embeddings and both projections
    ps.set(name, shape, data);
  }
  return ps;
}
