import { fail } from '../params/errors.js';
import type { ReplayMix } from '../time/types.js';
import type { Sample } from './fomo.js';

/** Splits a batch of `size` among pools by proportion (largest remainder); empty pools get nothing. */
export function batchShares(
  size: number,
  mix: ReplayMix,
  available: { pretrain: boolean; buffer: boolean },
): { pretrain: number; current: number; buffer: number } {
  const weights = {
    pretrain: available.pretrain ? mix.pretrain : 0,
    current: mix.current,
    buffer: available.buffer ? mix.buffer : 0,
  };
  let total = weights.pretrain + weights.current + weights.buffer;
  // A share with nowhere to go (no earlier tasks yet at step 1) falls to the current task.
  if (total <= 0) {
    weights.current = 1;
    total = 1;
  }
  const keys = ['pretrain', 'current', 'buffer'] as const;
  const exact = keys.map((k) => (size * weights[k]) / total);
  const counts = exact.map(Math.floor);
  let left = size - counts.reduce((a, b) => a + b, 0);
  const order = keys
    .map((_, i) => i)
    .sort((a, b) => exact[b] - Math.floor(exact[b]) - (exact[a] - Math.floor(exact[a])) || a - b);
  for (const i of order) {
    if (left === 0) break;
    if (exact[i] > 0) {
      counts[i]++;
      left--;
    }
  }
  return { pretrain: counts[0], current: counts[1], buffer: counts[2] };
}

/** Draws samples from a pool without replacement, reshuffling (seeded) each time it runs out. */
export class PoolSampler {
  private order: number[] = [];
  private at = 0;

  constructor(
    readonly name: string,
    private readonly pool: readonly Sample[],
    private readonly rng: () => number,
  ) {}

  get size(): number {
    return this.pool.length;
  }

  take(n: number): Sample[] {
    if (n > 0 && this.pool.length === 0) fail('DATA', `no training samples in the ${this.name} pool`);
    const out: Sample[] = [];
    for (let i = 0; i < n; i++) {
      if (this.at >= this.order.length) this.reshuffle();
      out.push(this.pool[this.order[this.at++]]);
    }
    return out;
  }

  private reshuffle(): void {
    this.order = [...this.pool.keys()];
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
    this.at = 0;
  }
}

/** One caption per sample: a random candidate when the annotation offers several. */
export function pickCaption(s: Sample, rng: () => number): string {
  return s.captions.length === 1 ? s.captions[0] : s.captions[Math.floor(rng() * s.captions.length)];
}
