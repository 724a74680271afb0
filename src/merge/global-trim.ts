import { sub } from '../params/kernels.js';
import type { TensorSource } from '../params/source.js';
import { electSigns, signTotal, type Election } from './sign.js';
import { trimByRule, type TopKRule } from './trim.js';

/**
 * Global top-k over a whole model (FusionBench / fomo_in_flux TIES flatten the model into one vector):
 * per expert, the rule that keeps exactly ⌊density·numel⌋ task-vector elements of largest magnitude over
 * all tensors, ties at the threshold going to the earliest elements in model order.
 *
 * Found exactly without holding a model in memory, by radix selection on the float32 bit patterns of |τ|
 * (non-negative floats order like their bits): pass 1 histograms the high 16 bits, pass 2 the low 16
 * bits inside the threshold's bucket, pass 3 hands out the ties tensor by tensor (and, when asked, sums
 * the elected signs for the model-level majority tie rule). Memory: two 65536-bucket histograms per expert.
 */
export interface GlobalTrim {
  /** Per tensor name, per expert: the top-k rule restricted to that tensor. */
  readonly rules: Map<string, TopKRule[]>;
  /** Σ of elected signs over the model (present when requested). */
  readonly signTotal?: number;
  /** Per expert, the magnitude of its K-th largest |τ| over the model (Infinity when K = 0). */
  readonly thresholds: readonly number[];
}

/** What the model-wide selection keeps. */
export interface GlobalKeep {
  /** K for expert k, given the model's element count: the K largest magnitudes are kept. */
  readonly count: (total: number, k: number) => number;
  /**
   * Keep every element equal to the K-th largest magnitude (fomo_in_flux's `>= kthvalue`), not only the
   * first ones in model order (the exact count).
   */
  readonly allTies?: boolean;
}

const BUCKETS = 65536;

async function taskVectorsOf(
  base: TensorSource,
  experts: readonly TensorSource[],
  name: string,
): Promise<Float32Array[]> {
  const b = await base.read(name);
  const xs = await Promise.all(experts.map((e) => e.read(name)));
  return xs.map((x) => {
    const t = new Float32Array(b.length);
    sub(t, x, b);
    return t;
  });
}

export async function prepareGlobalTrim(
  base: TensorSource,
  experts: readonly TensorSource[],
  keep: GlobalKeep,
  election?: { weights: readonly number[]; method: Election },
): Promise<GlobalTrim> {
  const infos = base.tensorInfos();
  const N = experts.length;
  let total = 0;
  const hi = Array.from({ length: N }, () => new Float64Array(BUCKETS));
  const absF = new Float32Array(1);
  const absU = new Uint32Array(absF.buffer);
  const bitsOf = (v: number): number => {
    absF[0] = Math.abs(v);
    return absU[0];
  };

  // Pass 1: high halves of the bit patterns.
  for (const info of infos) {
    const taus = await taskVectorsOf(base, experts, info.name);
    total += taus[0]?.length ?? 0;
    for (let k = 0; k < N; k++) {
      const t = taus[k];
      const h = hi[k];
      for (let i = 0; i < t.length; i++) h[bitsOf(t[i]) >>> 16]++;
    }
  }
  const Ks = experts.map((_, k) => Math.max(0, Math.min(total, keep.count(total, k))));
  // Per expert: the bucket holding the K-th largest and how many lie in higher buckets.
  const bucket = new Int32Array(N).fill(-1);
  const aboveBucket = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    const K = Ks[k];
    if (K === 0) continue;
    let cum = 0;
    for (let b = BUCKETS - 1; b >= 0; b--) {
      const c = hi[k][b];
      if (cum + c >= K) {
        bucket[k] = b;
        aboveBucket[k] = cum;
        break;
      }
      cum += c;
    }
  }

  // Pass 2: low halves inside each expert's bucket.
  const lo = Array.from({ length: N }, () => new Float64Array(BUCKETS));
  for (const info of infos) {
    const taus = await taskVectorsOf(base, experts, info.name);
    for (let k = 0; k < N; k++) {
      const bk = bucket[k];
      if (bk < 0) continue;
      const t = taus[k];
      const l = lo[k];
      for (let i = 0; i < t.length; i++) {
        const bits = bitsOf(t[i]);
        if (bits >>> 16 === bk) l[bits & 0xffff]++;
      }
    }
  }
  const threshold = new Float64Array(N).fill(Infinity);
  const tiesLeft = new Float64Array(N);
  const kth = new Array<number>(N).fill(Infinity);
  for (let k = 0; k < N; k++) {
    if (bucket[k] < 0) continue;
    const K = Ks[k];
    let cum = aboveBucket[k];
    for (let b = BUCKETS - 1; b >= 0; b--) {
      const c = lo[k][b];
      if (cum + c >= K) {
        absU[0] = ((bucket[k] << 16) | b) >>> 0;
        kth[k] = absF[0];
        threshold[k] = K >= total ? -Infinity : absF[0];
        tiesLeft[k] = K >= total ? 0 : keep.allTies ? Infinity : K - cum;
        break;
      }
      cum += c;
    }
  }

  // Pass 3: ties in model order (and the model's elected-sign total).
  const rules = new Map<string, TopKRule[]>();
  let signs = 0;
  for (const info of infos) {
    const needValues = election !== undefined;
    const taus = needValues || tiesLeft.some((t) => t > 0) ? await taskVectorsOf(base, experts, info.name) : [];
    const perExpert: TopKRule[] = [];
    for (let k = 0; k < N; k++) {
      let ties = 0;
      if (tiesLeft[k] > 0) {
        const t = taus[k];
        const thr = threshold[k];
        let eq = 0;
        for (let i = 0; i < t.length; i++) if (Math.abs(t[i]) === thr) eq++;
        ties = Math.min(eq, tiesLeft[k]);
        tiesLeft[k] -= ties;
      }
      perExpert.push({ threshold: threshold[k], ties });
    }
    rules.set(info.name, perExpert);
    if (election && taus.length > 0) {
      for (let k = 0; k < N; k++) trimByRule(taus[k], perExpert[k]);
      const s = new Int8Array(taus[0].length);
      electSigns(taus, election.weights, election.method, s);
      signs += signTotal(s);
    }
  }
  return election ? { rules, signTotal: signs, thresholds: kth } : { rules, thresholds: kth };
}
