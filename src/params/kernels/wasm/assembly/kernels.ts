// @ts-nocheck -- AssemblyScript source (compiled by asc, see build.mjs), not part of the Node program.
//
// WebAssembly SIMD versions of the elementwise kernels in src/params/kernels/reference.ts. Pointers are byte
// offsets into this module's memory, n is a count of f32 values. Every f32 operation here is the same
// IEEE operation, in the same order, as the TypeScript reference (no fused multiply-add), so results are
// bit-identical to it; the reductions (dot, sumSquares) accumulate in f64 lanes, in a different order.
// Loops are unrolled by 4 vectors (16 floats) with a 4-wide and a scalar tail.

@inline function splat(a: f32): v128 {
  return f32x4.splat(a);
}

/** y = y + a*x */
export function axpy(y: usize, x: usize, a: f32, n: i32): void {
  const va = splat(a);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
    v128.store(y + o, f32x4.add(v128.load(y + o, 16), f32x4.mul(va, v128.load(x + o, 16))), 16);
    v128.store(y + o, f32x4.add(v128.load(y + o, 32), f32x4.mul(va, v128.load(x + o, 32))), 32);
    v128.store(y + o, f32x4.add(v128.load(y + o, 48), f32x4.mul(va, v128.load(x + o, 48))), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

/** out = a*x + b*y */
export function axpby(out: usize, x: usize, a: f32, y: usize, b: f32, n: i32): void {
  const va = splat(a);
  const vb = splat(b);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(f32x4.mul(va, v128.load(x + o)), f32x4.mul(vb, v128.load(y + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, a * load<f32>(x + o) + b * load<f32>(y + o));
  }
}

/** y = a*y */
export function scale(y: usize, a: f32, n: i32): void {
  const va = splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(va, v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, a * load<f32>(y + o));
  }
}

/** out = a + t*(b - a) */
export function lerp(out: usize, a: usize, b: usize, t: f32, n: i32): void {
  const vt = splat(t);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const a0 = v128.load(a + o);
    const a1 = v128.load(a + o, 16);
    const r0 = f32x4.add(a0, f32x4.mul(vt, f32x4.sub(v128.load(b + o), a0)));
    const r1 = f32x4.add(a1, f32x4.mul(vt, f32x4.sub(v128.load(b + o, 16), a1)));
    v128.store(out + o, r0);
    v128.store(out + o, r1, 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const a0 = v128.load(a + o);
    v128.store(out + o, f32x4.add(a0, f32x4.mul(vt, f32x4.sub(v128.load(b + o), a0))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const ai = load<f32>(a + o);
    store<f32>(out + o, ai + t * (load<f32>(b + o) - ai));
  }
}

/** out = w*x */
export function mulTo(out: usize, x: usize, w: f32, n: i32): void {
  const vw = splat(w);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(vw, v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, w * load<f32>(x + o));
  }
}

/** out = w*(x - base) */
export function deltaMulTo(out: usize, x: usize, base: usize, w: f32, n: i32): void {
  const vw = splat(w);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(vw, f32x4.sub(v128.load(x + o), v128.load(base + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, w * (load<f32>(x + o) - load<f32>(base + o)));
  }
}

/** out = out + w*(x - base) */
export function deltaAxpy(out: usize, x: usize, base: usize, w: f32, n: i32): void {
  const vw = splat(w);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(out + o), f32x4.mul(vw, f32x4.sub(v128.load(x + o), v128.load(base + o)))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(out + o) + w * (load<f32>(x + o) - load<f32>(base + o)));
  }
}

/** out = base + a*x */
export function addScaled(out: usize, base: usize, a: f32, x: usize, n: i32): void {
  const va = splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(base + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(base + o) + a * load<f32>(x + o));
  }
}

/** out = a - b */
export function sub(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) - load<f32>(b + o));
  }
}

/** Σ a_i*b_i in f64 (two f64x2 accumulators: even lanes and odd lanes, then a scalar tail). */
export function dot(a: usize, b: usize, n: i32): f64 {
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const va = v128.load(a + o);
    const vb = v128.load(b + o);
    s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(va), f64x2.promote_low_f32x4(vb)));
    const ha = v128.shuffle<f32>(va, va, 2, 3, 0, 1);
    const hb = v128.shuffle<f32>(vb, vb, 2, 3, 0, 1);
    s1 = f64x2.add(s1, f64x2.mul(f64x2.promote_low_f32x4(ha), f64x2.promote_low_f32x4(hb)));
  }
  const s = f64x2.add(s0, s1);
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    r += <f64>load<f32>(a + o) * <f64>load<f32>(b + o);
  }
  return r;
}

/** Σ x_i² in f64 */
export function sumSquares(x: usize, n: i32): f64 {
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    s0 = f64x2.add(s0, f64x2.mul(lo, lo));
    s1 = f64x2.add(s1, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(s0, s1);
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    r += v * v;
  }
  return r;
}

/** Index of the first NaN or ±Inf, or -1. (v - v is 0 exactly when v is finite.) */
export function firstNonFinite(x: usize, n: i32): i32 {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const v0 = v128.load(x + o);
    const v1 = v128.load(x + o, 16);
    const v2 = v128.load(x + o, 32);
    const v3 = v128.load(x + o, 48);
    // f32x4.sub(v, v) is 0 or NaN per lane; adding them keeps any NaN, and ne(NaN, 0) is true.
    const d = f32x4.add(f32x4.add(f32x4.sub(v0, v0), f32x4.sub(v1, v1)), f32x4.add(f32x4.sub(v2, v2), f32x4.sub(v3, v3)));
    if (v128.any_true(f32x4.ne(d, f32x4.splat(0)))) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}

/** out_i = x_i where |x_i| >= |out_i| (ties to x, the later expert) */
export function absMaxInto(out: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const vo = v128.load(out + o);
    const vx = v128.load(x + o);
    v128.store(out + o, v128.bitselect(vx, vo, f32x4.ge(f32x4.abs(vx), f32x4.abs(vo))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const vx = load<f32>(x + o);
    if (Mathf.abs(vx) >= Mathf.abs(load<f32>(out + o))) store<f32>(out + o, vx);
  }
}

/** y = (y + a1*x1) + a2*x2: two accumulation steps of a weighted sum in one pass. */
export function axpy2(y: usize, x1: usize, a1: f32, x2: usize, a2: f32, n: i32): void {
  const v1 = splat(a1);
  const v2 = splat(a2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(f32x4.add(v128.load(y + o), f32x4.mul(v1, v128.load(x1 + o))), f32x4.mul(v2, v128.load(x2 + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a1 * load<f32>(x1 + o) + a2 * load<f32>(x2 + o));
  }
}
