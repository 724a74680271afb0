/**
 * Euclidean norm of a float64 working vector (the sphere techniques keep their directions in float64),
 * summed in index order; a plain loop because a callback per element costs about 10x here.
 */
export function norm64(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
