import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fail } from '../params/errors.js';
import { own } from '../params/own.js';

/**
 * CLIP's byte-level BPE tokenizer (open_clip's SimpleTokenizer), built from either the original merges
 * file (bpe_simple_vocab_16e6.txt.gz) or a Hugging Face tokenizer.json. Local files only.
 *
 * Text cleaning follows open_clip: HTML entities unescaped (twice), whitespace collapsed, lower-cased.
 * ftfy's mojibake repair is not reproduced; NFC normalisation (ftfy's default step) is.
 */
export class ClipTokenizer {
  readonly startToken: number;
  readonly endToken: number;
  readonly vocabSize: number;
  private readonly encoder: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly byteEncoder: string[];
  private readonly cache = new Map<string, string[]>();

  constructor(vocab: Map<string, number>, merges: readonly [string, string][], startToken: number, endToken: number) {
    this.encoder = vocab;
    this.ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
    this.byteEncoder = bytesToUnicode();
    this.startToken = startToken;
    this.endToken = endToken;
    let max = Math.max(startToken, endToken);
    for (const id of vocab.values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
  }

  /** From open_clip's merges file (gzipped or plain text). */
  static fromBpeFile(path: string): ClipTokenizer {
    let text: string;
    try {
      const raw = readFileSync(path);
      text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    } catch (err) {
      fail('IO', `${path}: cannot read the BPE vocabulary (${(err as Error).message})`);
    }
    // The file's first line is a version header; CLIP uses the first 49152 - 256 - 2 merges.
    const lines = text.split('\n').slice(1, 49152 - 256 - 2 + 1);
    const merges = lines.map((l, i) => {
      const parts = l.split(' ');
      if (parts.length !== 2) fail('DATA', `${path}: line ${i + 2} is not a merge "a b": ${JSON.stringify(l)}`);
      return parts as [string, string];
    });
    const base = byteSymbolsInVocabOrder();
    const tokens = [
      ...base,
      ...base.map((c) => `${c}</w>`),
      ...merges.map(([a, b]) => a + b),
      '<start_of_text>',
      '<end_of_text>',
    ];
    const vocab = new Map(tokens.map((t, i) => [t, i]));
    return new ClipTokenizer(vocab, merges, tokens.length - 2, tokens.length - 1);
  }

  /** From a Hugging Face tokenizer.json (model.vocab, model.merges, added start/end tokens). */
  static fromTokenizerJson(path: string): ClipTokenizer {
    let json: {
      model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
      added_tokens?: { id: number; content: string }[];
    };
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      fail('IO', `${path}: cannot read tokenizer.json (${(err as Error).message})`);
    }
    const model = json.model;
    if (!model || (model.type !== undefined && model.type !== 'BPE') || !model.vocab || !model.merges) {
      fail('DATA', `${path}: not a BPE tokenizer.json (needs model.type "BPE", model.vocab and model.merges)`);
    }
    const merges = model.merges.map((m, i) => {
      const parts = Array.isArray(m) ? m : m.split(' ');
      if (parts.length !== 2) fail('DATA', `${path}: merge ${i} is not a pair: ${JSON.stringify(m)}`);
      return [parts[0], parts[1]] as [string, string];
    });
    const vocab = new Map(Object.entries(model.vocab));
    const special = new Map((json.added_tokens ?? []).map((t) => [t.content, t.id]));
    const start = special.get('<|startoftext|>') ?? vocab.get('<|startoftext|>') ?? special.get('<start_of_text>');
    const end = special.get('<|endoftext|>') ?? vocab.get('<|endoftext|>') ?? special.get('<end_of_text>');
    if (start === undefined || end === undefined) fail('DATA', `${path}: no <|startoftext|> / <|endoftext|> tokens`);
    return new ClipTokenizer(vocab, merges, start, end);
  }

  /** Token ids of one text, without start/end tokens. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const word of cleanText(text).match(PATTERN) ?? []) {
      const encoded = Array.from(new TextEncoder().encode(word), (b) => this.byteEncoder[b]).join('');
      for (const piece of this.bpe(encoded)) {
        const id = this.encoder.get(piece);
        if (id === undefined) fail('DATA', `tokenizer: BPE piece ${JSON.stringify(piece)} is not in the vocabulary`);
        ids.push(id);
      }
    }
    return ids;
  }

  /**
   * [texts.length x contextLength] ids: start token, text, end token, zero padding; a text too long is
   * cut and its last id replaced by the end token, as open_clip's tokenize() does.
   */
  tokenize(texts: readonly string[], contextLength = 77): Int32Array {
    const out = new Int32Array(texts.length * contextLength);
    texts.forEach((t, row) => {
      const ids = [this.startToken, ...this.encode(t), this.endToken];
      if (ids.length > contextLength) {
        ids.length = contextLength;
        ids[contextLength - 1] = this.endToken;
      }
      out.set(ids, row * contextLength);
    });
    return out;
  }

  private bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best];
      const second = word[best + 1];
      // Merge every non-overlapping occurrence of the best pair, left to right.
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else merged.push(word[i]);
      }
      word = merged;
    }
    if (this.cache.size < 100_000) this.cache.set(token, word);
    return word;
  }
}

const PATTERN =
  /<start_of_text>|<end_of_text>|<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/** GPT-2's reversible byte -> printable character table, indexed by byte. */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  const { bytes, symbols } = byteTable();
  bytes.forEach((b, i) => (table[b] = symbols[i]));
  return table;
}

/** The byte symbols in the order CLIP's vocabulary lists them (printable bytes first). */
function byteSymbolsInVocabOrder(): string[] {
  return byteTable().symbols;
}

function byteTable(): { bytes: number[]; symbols: string[] } {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return { bytes: bs, symbols: cs.map((c) => String.fromCodePoint(c)) };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function htmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return own(ENTITIES, body.toLowerCase()) ?? m;
  });
}

/** open_clip's basic_clean + whitespace_clean + lower(). */
export function cleanText(text: string): string {
  const t = htmlUnescape(htmlUnescape(text.normalize('NFC'))).trim();
  return t.replace(/\s+/g, ' ').trim().toLowerCase();
}
