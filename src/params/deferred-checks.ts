/**
 * Finite checks of input tensors left to their consumer. A reader opened with `requireFinite: 'deferred'`
 * attaches to each array it returns the check that would have run on read (it throws the same error,
 * naming the file, tensor and index); the merge engine takes it and either runs it, or skips it when the
 * technique's finite output proves the input finite (facts.nonFiniteReachesOutput), which saves a whole
 * extra pass over every input. Whoever takes a check owns it: it must run it or prove it unneeded.
 */
const pending = new WeakMap<Float32Array, () => void>();

export function deferCheck(a: Float32Array, check: () => void): void {
  pending.set(a, check);
}

/** The check attached to a (removed from it), or undefined when there is none. */
export function takeCheck(a: Float32Array): (() => void) | undefined {
  const check = pending.get(a);
  if (check) pending.delete(a);
  return check;
}
