/**
 * Zero-shot scores from similarity matrices (row-major Float32Array). Retrieval ties count in the model's
 * favour: a rank is the number of candidates scoring strictly higher than the right one, so a candidate
 * tied with the right one never pushes it out of the top k. Classification takes the first of tied
 * classes.
 */

/** Fraction of rows whose highest-scoring column (first on ties) is the row's target. sims: [n x classes]. */
export function accuracy(sims: Float32Array, n: number, classes: number, targets: readonly number[]): number {
  if (n === 0) return 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (sims[i * classes + c] > sims[i * classes + best]) best = c;
    if (best === targets[i]) correct++;
  }
  return correct / n;
}

/** Image->text and text->image recall@k for n paired items (pair i = image i, text i). sims: [n x n] image rows. */
export function recallAtK(
  sims: Float32Array,
  n: number,
  k: number,
): { imageToText: number; textToImage: number; mean: number } {
  if (n === 0) return { imageToText: 0, textToImage: 0, mean: 0 };
  let i2t = 0;
  let t2i = 0;
  for (let i = 0; i < n; i++) {
    const right = sims[i * n + i];
    let rowRank = 0;
    let colRank = 0;
    for (let j = 0; j < n; j++) {
      if (sims[i * n + j] > right) rowRank++;
      if (sims[j * n + i] > right) colRank++;
    }
    if (rowRank < k) i2t++;
    if (colRank < k) t2i++;
  }
  return { imageToText: i2t / n, textToImage: t2i / n, mean: (i2t + t2i) / (2 * n) };
}

/** The retrieval figures FoMo-in-Flux reports: R@1 and R@5 in each direction, and the task score R@k averaged over both. */
export interface RetrievalScores {
  readonly imageToTextR1: number;
  readonly imageToTextR5: number;
  readonly textToImageR1: number;
  readonly textToImageR5: number;
  /** R@k averaged over image->text and text->image (k = 5 unless configured): the score A_KA and A_ZS use. */
  readonly score: number;
}

export function retrievalScores(sims: Float32Array, n: number, k = 5): RetrievalScores {
  const r1 = recallAtK(sims, n, 1);
  const r5 = recallAtK(sims, n, 5);
  return {
    imageToTextR1: r1.imageToText,
    imageToTextR5: r5.imageToText,
    textToImageR1: r1.textToImage,
    textToImageR5: r5.textToImage,
    score: recallAtK(sims, n, k).mean,
  };
}

/** a [n x d] @ b [m x d]^T for row-normalised features: cosine similarities [n x m]. */
export function similarities(a: Float32Array, n: number, b: Float32Array, m: number, d: number): Float32Array {
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let x = 0; x < d; x++) s += a[i * d + x] * b[j * d + x];
      out[i * m + j] = s;
    }
  }
  return out;
}
