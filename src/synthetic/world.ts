import type { Task, TaskStream } from '../time/types.js';
import type { SyntheticConfig } from './config.js';
import { Rng } from './random.js';

/** Inputs (n rows of d) and labels (indices into the task's class list). */
export interface SampleSet {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly n: number;
}

/** What a synthetic task carries: its classes' "captions" (latent prototypes) and its samples. */
export interface SynthTaskData {
  /** Dataset index for adaptation tasks; -1 for pretraining and zero-shot data. */
  readonly dataset: number;
  /** Number of classes c; labels lie in 0..c-1. */
  readonly classes: number;
  /** c rows of m: the text encoder's input for each class (what CLIP's class prompt is). */
  readonly classLatents: Float32Array;
  /** Mean direction of the domain map (d x m, row-major), kept for similarity ordering. */
  readonly domain: Float32Array;
  readonly train: SampleSet;
  readonly test: SampleSet;
  /**
   * Class-incremental evaluation: the test samples are scored against every class of the task's dataset
   * (`classes` rows of m, this task's classes at rows offset..offset+c-1), as FoMo-in-Flux scores each
   * dataset over all its class names. Absent: scored over the task's own classes.
   */
  readonly evalClasses?: { readonly latents: Float32Array; readonly classes: number; readonly offset: number };
}

export type SynthTask = Task<SynthTaskData>;

export interface SyntheticWorld {
  readonly config: SyntheticConfig;
  /** The broad pretraining distribution θ0 is trained on (every pretraining domain and class). */
  readonly pretrain: SynthTaskData;
  readonly stream: TaskStream<SynthTaskData>;
}

/**
 * A domain map: shared input map B0 plus a shift, scaled so inputs keep about the same norm.
 * Large shifts move the domain away from what θ0 saw in pretraining.
 */
function domainMap(b0: Float32Array, shift: Float32Array, amount: number): Float32Array {
  const s = 1 / Math.sqrt(1 + amount * amount);
  const out = new Float32Array(b0.length);
  for (let i = 0; i < out.length; i++) out[i] = s * (b0[i] + amount * shift[i]);
  return out;
}

/**
 * Keeps a random `share` of the d rows (input coordinates) of a d x m shift, scaled by 1/sqrt(share) so
 * its expected energy is unchanged; share 1 returns it untouched. Its own seed, so the world's other draws
 * do not depend on the share.
 */
export function restrictRows(shift: Float32Array, d: number, m: number, share: number, seed: string): Float32Array {
  if (share >= 1) return shift;
  const rows = new Rng(seed)
    .shuffle(Array.from({ length: d }, (_, i) => i))
    .slice(0, Math.max(1, Math.round(share * d)));
  const out = new Float32Array(shift.length);
  const scale = Math.sqrt(d / rows.length);
  for (const i of rows) for (let j = 0; j < m; j++) out[i * m + j] = scale * shift[i * m + j];
  return out;
}

/**
 * A rotation of R^m by `angle` in m/2 random orthogonal planes (one fixed point when m is odd): R = Q
 * blockdiag(rot(angle)) Qᵀ with Q a random orthonormal basis (Gram-Schmidt of a Gaussian draw). Angle 0
 * gives the identity. Row-major m x m.
 */
export function randomRotation(m: number, angle: number, seed: string): Float64Array {
  const rng = new Rng(seed);
  const q: Float64Array[] = [];
  while (q.length < m) {
    const v = Float64Array.from(rng.gaussian(m));
    for (const u of q) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += u[i] * v[i];
      for (let i = 0; i < m; i++) v[i] -= dot * u[i];
    }
    let n = 0;
    for (let i = 0; i < m; i++) n += v[i] * v[i];
    n = Math.sqrt(n);
    if (n < 1e-6) continue;
    for (let i = 0; i < m; i++) v[i] /= n;
    q.push(v);
  }
  const r = new Float64Array(m * m);
  for (let i = 0; i < m; i++) r[i * m + i] = 1;
  const c = Math.cos(angle) - 1;
  const s = Math.sin(angle);
  for (let p = 0; p + 1 < m; p += 2) {
    const a = q[p];
    const b = q[p + 1];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) r[i * m + j] += c * (a[i] * a[j] + b[i] * b[j]) + s * (b[i] * a[j] - a[i] * b[j]);
  }
  return r;
}

/** A R: a d x m map applied after the latent rotation R (m x m). */
function rotateMap(a: Float32Array, r: Float64Array, d: number, m: number): Float32Array {
  const out = new Float32Array(d * m);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let l = 0; l < m; l++) s += a[i * m + l] * r[l * m + j];
      out[i * m + j] = s;
    }
  return out;
}

/** Draws samples x = A (μ_c + σ_l ε) + σ_x η for every (class, repeat). */
function drawSamples(
  rng: Rng,
  cfg: SyntheticConfig,
  domains: readonly Float32Array[],
  latents: Float32Array,
  classes: number,
  perPair: number,
): SampleSet {
  const { d, m, latentNoise, inputNoise } = cfg;
  const n = domains.length * classes * perPair;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  const h = new Float64Array(m);
  let row = 0;
  for (const a of domains) {
    for (let c = 0; c < classes; c++) {
      for (let r = 0; r < perPair; r++, row++) {
        y[row] = c;
        for (let j = 0; j < m; j++) h[j] = latents[c * m + j] + latentNoise * rng.normal();
        const o = row * d;
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let j = 0; j < m; j++) s += a[i * m + j] * h[j];
          x[o + i] = s + inputNoise * rng.normal();
        }
      }
    }
  }
  return { x, y, n };
}

function pick(latents: Float32Array, m: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * m);
  indices.forEach((c, r) => out.set(latents.subarray(c * m, (c + 1) * m), r * m));
  return out;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

function meanRow(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[j] += x[r * cols + j] / rows;
  return out;
}

/** Task-to-task similarity: domain maps alike and class prototypes alike. */
export function taskSimilarity(a: SynthTaskData, b: SynthTaskData, m: number): number {
  return (
    cosine(a.domain, b.domain) + cosine(meanRow(a.classLatents, a.classes, m), meanRow(b.classLatents, b.classes, m))
  );
}

/** Greedy nearest-neighbour chain, starting from the task most like the pretraining distribution. */
function similarityOrder(tasks: readonly SynthTaskData[], pretrain: SynthTaskData, m: number): number[] {
  const left = new Set(tasks.map((_, i) => i));
  const order: number[] = [];
  let ref = pretrain;
  while (left.size > 0) {
    let best = -1;
    let bestSim = -Infinity;
    for (const i of left) {
      const s = taskSimilarity(ref, tasks[i], m);
      if (s > bestSim) {
        bestSim = s;
        best = i;
      }
    }
    order.push(best);
    left.delete(best);
    ref = tasks[best];
  }
  return order;
}

/**
 * Generates the whole world from cfg.seed: class prototypes, domain maps, the pretraining pool, T adaptation
 * tasks (cut from `datasets` datasets, each with its own shifted domain) and held-out zero-shot tasks.
 */
export function generateWorld(cfg: SyntheticConfig): SyntheticWorld {
  const { d, m } = cfg;
  const rng = new Rng(`synthetic-world/${cfg.seed}`);
  const unit = 1 / Math.sqrt(m);
  const b0 = rng.gaussian(d * m, unit);
  const preLatents = rng.gaussian(cfg.pretrainClasses * m);
  const preDomains = Array.from({ length: cfg.pretrainDomains }, () =>
    domainMap(b0, rng.gaussian(d * m, unit), cfg.pretrainShift),
  );
  const allPre = Array.from({ length: cfg.pretrainClasses }, (_, i) => i);
  const pretrain: SynthTaskData = {
    dataset: -1,
    classes: cfg.pretrainClasses,
    classLatents: preLatents,
    domain: b0,
    train: drawSamples(rng, cfg, preDomains, preLatents, cfg.pretrainClasses, cfg.pretrainPerPair),
    test: drawSamples(rng, cfg, preDomains, preLatents, cfg.pretrainClasses, 1),
  };

  // Adaptation datasets: a common shift (task similarity) plus each dataset's own.
  const common = rng.gaussian(d * m, unit);
  const sim = cfg.taskSimilarity;
  const datasetDomains = Array.from({ length: cfg.datasets }, (_, ds) => {
    if (!cfg.newDomains) return domainMap(b0, rng.gaussian(d * m, unit), cfg.pretrainShift);
    const own = restrictRows(rng.gaussian(d * m, unit), d, m, cfg.shiftRows, `synthetic-shift-rows/${cfg.seed}/${ds}`);
    const shift = new Float32Array(d * m);
    for (let i = 0; i < shift.length; i++) shift[i] = Math.sqrt(sim) * common[i] + Math.sqrt(1 - sim) * own[i];
    const map = domainMap(b0, shift, cfg.adaptShift);
    if (cfg.rotation === 0) return map;
    return rotateMap(map, randomRotation(m, cfg.rotation, `synthetic-rotation/${cfg.seed}/${ds}`), d, m);
  });

  const c = cfg.classesPerTask;
  const canonical: { data: SynthTaskData; id: string }[] = [];
  const perDataset = new Array<number>(cfg.datasets).fill(0);
  for (let t = 0; t < cfg.T; t++) {
    const ds = Math.floor((t * cfg.datasets) / cfg.T);
    const latents = cfg.newClasses ? rng.gaussian(c * m) : pick(preLatents, m, rng.shuffle([...allPre]).slice(0, c));
    const domain = datasetDomains[ds];
    canonical.push({
      id: `ds${ds}.t${perDataset[ds]++}`,
      data: {
        dataset: ds,
        classes: c,
        classLatents: latents,
        domain,
        train: drawSamples(rng, cfg, [domain], latents, c, cfg.trainPerClass),
        test: drawSamples(rng, cfg, [domain], latents, c, cfg.testPerClass),
      },
    });
  }

  // Held-out zero-shot classes come from their own generator, so the rest of the world stays as it is.
  const heldOut = new Rng(`synthetic-zeroshot-classes/${cfg.seed}`);
  const zeroshot: SynthTask[] = [];
  for (let z = 0; z < cfg.zeroshotTasks; z++) {
    const classes = rng.shuffle([...allPre]).slice(0, cfg.zeroshotClasses);
    const latents = cfg.zeroshotHeldOut ? heldOut.gaussian(classes.length * m) : pick(preLatents, m, classes);
    const domain = domainMap(b0, rng.gaussian(d * m, unit), cfg.zeroshotShift);
    const test = drawSamples(rng, cfg, [domain], latents, classes.length, cfg.testPerClass);
    zeroshot.push({
      id: `zs${z}`,
      role: 'zeroshot',
      data: { dataset: -1, classes: classes.length, classLatents: latents, domain, train: test, test },
    });
  }

  // Every task of a dataset is scored against all of that dataset's classes (class-incremental).
  for (let ds = 0; ds < cfg.datasets; ds++) {
    const members = canonical.filter((t) => t.data.dataset === ds);
    const latents = new Float32Array(members.length * c * m);
    members.forEach((t, i) => latents.set(t.data.classLatents, i * c * m));
    members.forEach((t, i) => {
      t.data = { ...t.data, evalClasses: { latents, classes: members.length * c, offset: i * c } };
    });
  }

  let order = canonical.map((_, i) => i);
  if (cfg.ordering === 'random') order = new Rng(`synthetic-order/${cfg.seed}`).shuffle(order);
  else if (cfg.ordering === 'similarity' || cfg.ordering === 'reversed') {
    order = similarityOrder(
      canonical.map((t) => t.data),
      pretrain,
      m,
    );
    if (cfg.ordering === 'reversed') order.reverse();
  }
  const adaptation: SynthTask[] = order.map((i) => ({
    id: canonical[i].id,
    role: 'adaptation',
    data: canonical[i].data,
  }));
  return {
    config: cfg,
    pretrain,
    stream: { name: `synthetic-${cfg.ordering}-T${cfg.T}-s${cfg.seed}`, adaptation, zeroshot },
  };
}
