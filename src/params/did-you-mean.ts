/** Edit distance with adjacent transpositions (a typo's usual shapes: a letter missing, extra, wrong or swapped). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Words longer than this get no suggestion (every known name is far shorter). */
export const MAX_TYPO_LENGTH = 200;

/**
 * The known names closest to `word` (case, `_` and `-` ignored), within a third of its length (at
 * least 1, at most 3 edits), nearest first; empty when nothing is that close.
 */
export function closest(word: string, known: readonly string[]): string[] {
  // A name this long is no typo of a known one; the quadratic distance would take seconds on it.
  if (word.length > MAX_TYPO_LENGTH) return [];
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const w = norm(word);
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  // The distance is at least the difference in length: names that far apart are not compared.
  const scored = known
    .filter((k) => Math.abs(norm(k).length - w.length) <= limit)
    .map((k) => [k, editDistance(w, norm(k))] as const)
    .filter(([, d]) => d <= limit);
  const best = Math.min(...scored.map(([, d]) => d));
  // Spellings of one name (an alias task_arithmetic beside task-arithmetic) are suggested once: the first.
  const seen = new Set<string>();
  return scored.filter(([k, d]) => d === best && !seen.has(norm(k)) && seen.add(norm(k))).map(([k]) => k);
}

/** ` (did you mean "x"?)` for the closest known name(s), or '' when none is close. */
export function didYouMean(word: string, known: readonly string[]): string {
  const c = closest(word, known);
  return c.length === 0 ? '' : ` (did you mean ${c.map((k) => `"${k}"`).join(' or ')}?)`;
}
