import { describe, expect, it } from 'vitest';
import { tinyClipDiagnostics } from '../src/clip/tiny-diagnostics.js';
import { BPE_VOCAB } from './shared-fixtures.js';
import { TORCH } from './torch-available.js';

describe('world diagnostics from CLIP experts (tiny CLIP, tiny FoMo-in-Flux tree)', () => {
  let tfjs: Awaited<ReturnType<typeof tinyClipDiagnostics>>;

  it('tfjs: one expert per task, each learning its task, with small task vectors', async () => {
    tfjs = await tinyClipDiagnostics({ engine: 'tfjs', bpeVocab: BPE_VOCAB });
    expect(tfjs.experts).toBe(3);
    expect(tfjs.tauRatio).toBeGreaterThan(0);
    expect(tfjs.tauRatio).toBeLessThan(0.5);
    expect(Math.abs(tfjs.crossCosine)).toBeLessThan(1);
    expect(tfjs.expertScore).toBeGreaterThan(tfjs.baseScore);
    // Three classes per dataset, so θ0's class-incremental A_KA is near chance; scores are shares.
    for (const v of [tfjs.baseAKa, tfjs.baseAZs, tfjs.expertScore]) expect(v).toBeGreaterThanOrEqual(0);
    for (const v of [tfjs.baseAKa, tfjs.baseAZs, tfjs.expertScore]) expect(v).toBeLessThanOrEqual(1);
  }, 60_000);

  it.skipIf(!TORCH.ok)(
    'torch: the same θ0 scores the same, and the experts move about as far',
    async () => {
      const torch = await tinyClipDiagnostics({ engine: 'torch', bpeVocab: BPE_VOCAB });
      expect(torch.experts).toBe(3);
      expect(torch.baseAKa).toBeCloseTo(tfjs.baseAKa, 6);
      expect(torch.baseAZs).toBeCloseTo(tfjs.baseAZs, 6);
      // Crops and batches come from each engine's generator: the task vectors agree in size, not bit for bit.
      expect(torch.tauRatio / tfjs.tauRatio).toBeGreaterThan(0.7);
      expect(torch.tauRatio / tfjs.tauRatio).toBeLessThan(1.4);
    },
    60_000,
  );
});
