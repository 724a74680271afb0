/**
 * Where the reference fixtures live: test/fixtures inside the repository (copies of the open_clip parity
 * data, its tokenizer vocabulary and FoMo-in-Flux samples), or TIME_MERGE_FIXTURES when they are elsewhere.
 */
import { join } from 'node:path';

export const FIXTURES = process.env.TIME_MERGE_FIXTURES ?? join(import.meta.dirname, 'fixtures');
export const OPEN_CLIP_FIXTURES = join(FIXTURES, 'open_clip');
export const FOMO_FIXTURES = join(FIXTURES, 'fomo_in_flux');
/** open_clip's byte-pair vocabulary (the tokenizer of the tiny CLIP tests). */
export const BPE_VOCAB = join(OPEN_CLIP_FIXTURES, 'bpe_simple_vocab_16e6.txt.gz');
