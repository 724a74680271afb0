import { fc, test as fcTest } from '@fast-check/vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer, cleanText } from '../src/clip/tokenizer.js';
import { OPEN_CLIP_FIXTURES } from './shared-fixtures.js';

const FIX = OPEN_CLIP_FIXTURES;
const fixture = JSON.parse(readFileSync(`${FIX}/tiny-a/fixture.json`, 'utf8')) as {
  texts: string[];
  tokens: number[][];
};
const bpe = ClipTokenizer.fromBpeFile(`${FIX}/bpe_simple_vocab_16e6.txt.gz`);

/** Writes a tokenizer.json in the Hugging Face layout from the same merges file, as openai/clip-* ship. */
function makeTokenizerJson(): string {
  const lines = gunzipSync(readFileSync(`${FIX}/bpe_simple_vocab_16e6.txt.gz`))
    .toString('utf8')
    .split('\n')
    .slice(1, 49152 - 256 - 2 + 1);
  const vocab: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), 'clip-tok-'));
  const path = join(dir, 'tokenizer.json');
  // Build the vocabulary exactly as tokenizers' CLIP conversion does: byte symbols, "</w>" forms, merges.
  const bytes: string[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(String.fromCodePoint(b));
  for (let b = 161; b <= 172; b++) bytes.push(String.fromCodePoint(b));
  for (let b = 174; b <= 255; b++) bytes.push(String.fromCodePoint(b));
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)))
      bytes.push(String.fromCodePoint(256 + n++));
  const tokens = [...bytes, ...bytes.map((c) => `${c}</w>`), ...lines.map((l) => l.replace(' ', ''))];
  tokens.forEach((t, i) => (vocab[t] = i));
  vocab['<|startoftext|>'] = 49406;
  vocab['<|endoftext|>'] = 49407;
  const json = {
    version: '1.0',
    added_tokens: [
      { id: 49406, content: '<|startoftext|>', special: true },
      { id: 49407, content: '<|endoftext|>', special: true },
    ],
    model: { type: 'BPE', vocab, merges: lines, end_of_word_suffix: '</w>', continuing_subword_prefix: '' },
  };
  writeFileSync(path, JSON.stringify(json));
  return path;
}

const hf = ClipTokenizer.fromTokenizerJson(makeTokenizerJson());

describe('CLIP tokenizer', () => {
  it('has open_clip special tokens', () => {
    expect([bpe.startToken, bpe.endToken, bpe.vocabSize]).toEqual([49406, 49407, 49408]);
    expect([hf.startToken, hf.endToken]).toEqual([49406, 49407]);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7])('reproduces the fixture ids of text %i exactly', (i) => {
    expect(Array.from(bpe.tokenize([fixture.texts[i]]))).toEqual(fixture.tokens[i]);
    expect(Array.from(hf.tokenize([fixture.texts[i]]))).toEqual(fixture.tokens[i]);
  });

  it('encodes hand-checked words', () => {
    // "a photo of a cat." -> a, photo, of, a, cat, . (ids from the fixture's first row)
    expect(bpe.encode('a photo of a cat.')).toEqual([320, 1125, 539, 320, 2368, 269]);
    expect(bpe.encode('  A   PHOTO\tof\na cat. ')).toEqual(bpe.encode('a photo of a cat.'));
    expect(bpe.encode('&amp;')).toEqual(bpe.encode('&'));
    expect(bpe.encode('')).toEqual([]);
  });

  it('cuts long texts at the context length and ends them with the end token', () => {
    const ids = bpe.tokenize(['word '.repeat(200)], 77);
    expect(ids.length).toBe(77);
    expect(ids[0]).toBe(49406);
    expect(ids[76]).toBe(49407);
    expect(Array.from(ids.slice(1, 76)).every((x) => x === bpe.encode('word')[0])).toBe(true);
  });

  it('cleans text as open_clip does', () => {
    expect(cleanText('  Hello\u00a0\n World &amp;amp; ')).toBe('hello world &');
  });

  fcTest.prop([fc.string({ unit: 'grapheme', maxLength: 40 })], { numRuns: 200 })(
    'both vocabularies give the same ids, start/end framed, zero padded',
    (s) => {
      const a = bpe.tokenize([s], 77);
      expect(Array.from(hf.tokenize([s], 77))).toEqual(Array.from(a));
      expect(a[0]).toBe(49406);
      const end = a.indexOf(49407);
      expect(end).toBeGreaterThan(0);
      expect(Array.from(a.slice(end + 1)).every((x) => x === 0)).toBe(true);
      expect(Array.from(a).every((x) => x >= 0 && x < 49408)).toBe(true);
    },
  );
});
