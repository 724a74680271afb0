/**
 * A config value as an error message quotes it: JSON-like, but numbers as JavaScript writes them (a
 * YAML or JSON `1e400` reads as Infinity, which JSON.stringify would show as null), undefined as
 * "nothing", and cut at about `max` characters so a bad value megabytes long never fills the message.
 */
export function showValue(v: unknown, max = 60): string {
  const seen = new Set<unknown>();
  let out = '';
  const put = (s: string) => {
    out += s;
    return out.length <= max;
  };
  const walk = (x: unknown, depth: number): boolean => {
    if (x === undefined) return put('nothing');
    if (x === null || typeof x === 'boolean' || typeof x === 'bigint') return put(String(x));
    if (typeof x === 'number') return put(Object.is(x, -0) ? '-0' : String(x));
    if (typeof x === 'string') return put(JSON.stringify(x.length > max ? x.slice(0, max) : x));
    if (typeof x !== 'object' || seen.has(x) || depth > 8) return put('…');
    seen.add(x);
    if (Array.isArray(x)) {
      if (!put('[')) return false;
      for (let i = 0; i < x.length; i++) if ((i > 0 && !put(', ')) || !walk(x[i], depth + 1)) return false;
      return put(']');
    }
    const entries = Object.entries(x as Record<string, unknown>);
    if (!put('{ ')) return false;
    for (let i = 0; i < entries.length; i++) {
      if ((i > 0 && !put(', ')) || !put(`${entries[i][0].slice(0, max)}: `) || !walk(entries[i][1], depth + 1))
        return false;
    }
    return put(' }');
  };
  return walk(v, 0) ? out : `${out.slice(0, max)}…`;
}
