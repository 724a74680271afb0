import { describe, expect, it } from 'vitest';
import { TimeMergeError } from '../src/params/errors.js';
import { checkMethod, methodLabel, parseMethod, PRESETS, runBaseline } from '../src/time/index.js';
import { RecordingEvaluator, ScriptedTrainer, stream, vec } from './time-helpers.js';

describe('parseMethod', () => {
  it('knows the official presets', () => {
    expect(parseMethod('finetune')).toMatchObject({ init: 'last', deploy: { kind: 'last' } });
    expect(parseMethod('offline_merge')).toMatchObject({
      init: 'base',
      deploy: { kind: 'merge-all', weighting: 'uniform', includeBase: false },
    });
    expect(parseMethod('zs_paint')).toMatchObject({ init: 'base', deploy: { kind: 'ema', beta: 0.5, seed: 'base' } });
    expect(parseMethod('ft_paint')).toMatchObject({ init: 'paint', deploy: { kind: 'paint' } });
    expect(parseMethod('ema_paint')).toMatchObject({
      init: 'ema',
      initOptions: { beta: 0.5, seed: 'base' },
      deploy: { kind: 'ema', beta: 0.5, seed: 'base' },
    });
    expect(parseMethod('best-in-time')).toEqual(parseMethod('ema_paint'));
    expect(parseMethod('double_merge_all_unrolled')).toMatchObject({
      init: 'merge-all',
      deploy: { kind: 'ema', seed: 'first' },
    });
    expect(parseMethod('double_merge_unrolled_all')).toMatchObject({
      init: 'ema',
      initOptions: { seed: 'first' },
      deploy: { kind: 'merge-all' },
    });
    const dm = [...PRESETS.keys()].filter((k) => k.startsWith('double_merge_'));
    expect(dm).toHaveLength(12);
    expect(parseMethod('finetune').merge).toEqual({ technique: 'weighted-average' });
    expect(parseMethod('finetune', { technique: 'ties', params: { density: 0.3 } }).merge.technique).toBe('ties');
  });

  it('reads <init>+<deploy> with options', () => {
    expect(parseMethod('ema+merge-all:linear')).toMatchObject({
      init: 'ema',
      initOptions: { beta: 0.5, seed: 'base' },
      deploy: { kind: 'merge-all', weighting: 'linear', includeBase: false },
    });
    expect(parseMethod('merge-all:exp:with-base+ema:0.25:first')).toMatchObject({
      init: 'merge-all',
      initOptions: { weighting: 'exp', includeBase: true },
      deploy: { kind: 'ema', beta: 0.25, seed: 'first' },
    });
    expect(parseMethod('deployed+paint:0.3')).toMatchObject({
      init: 'deployed',
      deploy: { kind: 'paint', alpha: 0.3 },
    });
    expect(parseMethod('base+merge-all:reverse-tenth').deploy).toEqual({
      kind: 'merge-all',
      weighting: 'reverse-tenth',
      includeBase: false,
    });
  });

  it('labels runs with the preset name where there is one, else a string parseMethod reads back', () => {
    expect(methodLabel(parseMethod('double_merge_ft_ft'))).toBe('finetune');
    expect(methodLabel(parseMethod('double_merge_zs_all'))).toBe('offline_merge');
    expect(methodLabel(parseMethod('ema+ema'))).toBe('ema_paint');
    expect(methodLabel(parseMethod('ema:0.5:first+ema:0.5:first'))).toBe('double_merge_unrolled_unrolled');
    for (const s of [
      'ema:0.3+merge-all:linear',
      'merge-all:exp:with-base+ema:0.25:first',
      'deployed+paint:0.3',
      'last+merge-all:reverse-log:with-base',
    ]) {
      expect(methodLabel(parseMethod(s))).toBe(s);
      expect(parseMethod(methodLabel(parseMethod(s)))).toEqual(parseMethod(s));
    }
  });

  it('rejects bad names and options with CONFIG errors naming them', () => {
    const cases: [string, RegExp][] = [
      ['nope', /expected a preset/],
      ['warm+last', /unknown init protocol "warm"/],
      ['last+best', /unknown deploy protocol "best"/],
      ['base+merge-all:cubed', /unknown temporal weighting "cubed"/],
      ['base+ema:0', /beta must be in \(0, 1\]/],
      ['base+ema:x', /"x" is not a number/],
      ['base+paint:1.5', /alpha must be in \[0, 1\]/],
      ['last:2+last', /takes no options/],
    ];
    for (const [name, re] of cases) {
      let err: unknown;
      try {
        parseMethod(name);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(TimeMergeError);
      expect((err as TimeMergeError).code).toBe('CONFIG');
      expect((err as Error).message).toMatch(re);
    }
  });

  it('checks methods built in code', () => {
    expect(() => checkMethod({ ...parseMethod('zs_paint'), deploy: { kind: 'ema', beta: 2, seed: 'base' } })).toThrow(
      /beta/,
    );
    expect(() =>
      checkMethod({ ...parseMethod('offline_merge'), merge: { technique: 'weighted-average', weights: [1, 2] } }),
    ).toThrow(/merge.weights is set by the protocols/);
    expect(() => checkMethod({ ...parseMethod('offline_merge'), init: 'warm' as never })).toThrow(
      /unknown init protocol/,
    );
  });

  it('rejects an unknown baseline', async () => {
    await expect(
      runBaseline('oracle' as never, {
        stream: stream([[1]]),
        trainer: new ScriptedTrainer(),
        evaluator: new RecordingEvaluator(),
        base: vec([0]),
        stepsPerTask: 1,
        seed: 0,
      }),
    ).rejects.toThrow(/unknown baseline "oracle"/);
  });
});
