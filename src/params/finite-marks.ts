/**
 * Arrays a kernel has just written in full and found finite, so the merge engine can skip its separate
 * non-finite scan (a whole extra read of every merged tensor). A mark is set only by a kernel that wrote
 * every element of that exact array and saw no NaN or ±Infinity among the values it wrote; every kernel
 * that writes an array clears its mark first, and the engine consumes the mark when it reads it.
 *
 * Marks are kept per underlying buffer, not per array object: a kernel that writes through a view
 * (`out.subarray(a, b)`, as model-stock's per-row pass does) is a different object over the same memory,
 * and clearing only the view's mark would leave a stale mark on the whole array. A write to any view of a
 * buffer therefore clears the buffer's mark, and a mark vouches only for the exact byte range it was set on.
 */
const marks = new WeakMap<ArrayBufferLike, { offset: number; length: number }>();

export function markFinite(a: Float32Array): void {
  marks.set(a.buffer, { offset: a.byteOffset, length: a.length });
}

/** Forgets the mark of a's buffer, whichever view of it the mark was set on. */
export function clearFinite(a: Float32Array): void {
  marks.delete(a.buffer);
}

/** Whether a itself was marked (and unmarks its buffer: a mark vouches for one check). */
export function takeFiniteMark(a: Float32Array): boolean {
  const m = marks.get(a.buffer);
  if (!m) return false;
  marks.delete(a.buffer);
  return m.offset === a.byteOffset && m.length === a.length;
}
