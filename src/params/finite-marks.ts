/**
 * Arrays a kernel has just written in full and found finite, so the merge engine can skip its separate
 * non-finite scan (a whole extra read of every merged tensor). A mark is set only by a kernel that wrote
 * every element of that exact array object and saw no NaN or ±Infinity among the values it wrote; every
 * kernel that writes an array clears its mark first, and the engine consumes the mark when it reads it.
 * Code that writes a merged array outside the kernels must not run after a marking kernel.
 */
const marks = new WeakSet<Float32Array>();

export function markFinite(a: Float32Array): void {
  marks.add(a);
}

export function clearFinite(a: Float32Array): void {
  marks.delete(a);
}

/** Whether a was marked (and unmarks it: a mark vouches for one check). */
export function takeFiniteMark(a: Float32Array): boolean {
  return marks.delete(a);
}
