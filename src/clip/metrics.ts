/**
 * Zero-shot scores from similarity matrices (row-major Float32Array). Ties count in the model's favour:
 * a rank is the number of candidates scoring strictly higher than the right one.
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
export function recallAtK(sims: Float32Array, n: number, k: number): { imageToText: number; textToImage: number; mean: number } {
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
