import seedrandom from 'seedrandom';

/** The seeded generator of one tensor (or a named model-wide draw): seedrandom of "seed/name". */
export function tensorRng(seed: number, name: string): () => number {
  return seedrandom(`${seed}/${name}`);
}
