import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/study/duration.js';
import { StudyProgress } from '../src/study/progress.js';

/** A stream that is not a terminal, keeping what was written. */
function logStream(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = {
    isTTY: false,
    write: (s: string) => {
      lines.push(...s.split('\n').filter(Boolean));
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('study progress off a terminal', () => {
  it('says the size, an estimate after the first wave, a line at most every 10 s, and one at the end', () => {
    const { stream, lines } = logStream();
    let t = 100;
    const p = new StudyProgress({ todo: 6, slots: 2, lines: true, stream, now: () => t, title: '6 runs: 6 to run' });
    expect(lines).toEqual(['6 runs: 6 to run']);
    t += 4;
    p.done(); // 1 done at 4 s: the first wave (2 slots) is not over
    expect(lines).toHaveLength(1);
    t += 4;
    p.done(); // 2 done at 8 s: 4 s a run, 24 s for 6
    expect(lines[1]).toBe('estimate: about 24s for the 6 runs (2 done)');
    t += 5;
    p.done(); // 13 s: 5 s since the estimate, no line
    expect(lines).toHaveLength(2);
    t += 6;
    p.done(); // 19 s: 11 s since the last line; 4 done in 19 s, 2 left: 9.5 s
    expect(lines[2]).toBe('runs 4/6, 19s elapsed, about 10s left');
    t += 3;
    p.done();
    t += 3;
    p.done();
    p.stop();
    expect(lines.slice(3)).toEqual(['runs 6/6 in 25s']);
  });

  it('is silent unless lines are asked for', () => {
    const { stream, lines } = logStream();
    const p = new StudyProgress({ todo: 2, slots: 1, stream, title: 'two runs' });
    p.done();
    p.done();
    p.stop();
    expect(lines).toEqual([]);
  });

  it('formats durations', () => {
    expect([0, 42.4, 59.6, 185, 3600 + 125].map(formatDuration)).toEqual(['0s', '42s', '1m00s', '3m05s', '1h02m']);
  });
});
