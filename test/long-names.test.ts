/** An unknown name of any length is answered at once with a one-line message that quotes it cut short. */
import { describe, expect, it } from 'vitest';
import { parseMergeConfig } from '../src/merge/config.js';
import { closest } from '../src/params/did-you-mean.js';
import { MAX_WORD, TimeMergeError } from '../src/params/errors.js';
import { parseStudyFile } from '../src/study/study-file.js';

const MERGE = 'base_model: c.safetensors\nmodels: [a.safetensors, b.safetensors]\n';

function message(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(TimeMergeError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('long unknown names', () => {
  const long = 'x'.repeat(1_000_000);

  it('get no suggestion, and the message quotes them cut in the middle', () => {
    // YAML refuses keys over 1024 characters itself; JSON takes any
    const json = (o: object) =>
      JSON.stringify({ base_model: 'c.safetensors', models: ['a.safetensors', 'b.safetensors'], ...o });
    for (const text of [
      json({ merge_method: long }),
      json({ merge_method: 'ties', toolkit: 'time-merge', parameters: { [long]: 1 } }),
      json({ merge_method: 'ties', [long]: 1 }),
    ]) {
      const m = message(() => parseMergeConfig(text, { source: 'm.json', format: 'json' }));
      expect(m.length).toBeLessThan(2000);
      expect(m).toContain(`${'x'.repeat(120)}…[${1_000_000 - 180} more characters]…${'x'.repeat(60)}`);
      expect(m).not.toContain('\n');
    }
    const m = message(() => parseStudyFile(`name: x\nmethods: [${long}]\ntechniques: [ties]\nseeds: 0\n`, 's.yaml'));
    expect(m.length).toBeLessThan(2000);
  });

  it('a typo one letter off a known name is still suggested, and words up to the cap are quoted whole', () => {
    expect(closest('task_arithmatic', ['ties', 'task-arithmetic'])).toEqual(['task-arithmetic']);
    const word = 'y'.repeat(MAX_WORD);
    expect(message(() => parseMergeConfig(`merge_method: ${word}\n${MERGE}`))).toContain(`"${word}"`);
  });
});
