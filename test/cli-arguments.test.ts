import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commanderStatus, oneLineArgumentErrors } from '../src/cli/arg-errors.js';
import { ROOT, runCli, STACK } from './cli-terminal.js';

// A bad command line is one line on stderr and status 2, with a did-you-mean where one is near; the
// help comes only with --help.

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('argument errors from the bundle', () => {
  it.each([
    [['simm'], "time-merge: unknown command 'simm' (did you mean sim?); see time-merge --help"],
    [['tech'], "time-merge: unknown command 'tech' (did you mean techniques?); see time-merge --help"],
    [
      ['sim', '--workrs', '2'],
      "time-merge: unknown option '--workrs' (did you mean --workers?); see time-merge sim --help",
    ],
    [['sim', '--bogus'], "time-merge: unknown option '--bogus'; see time-merge sim --help"],
    [
      ['report'],
      "time-merge: missing required argument 'results-dir' (usage: time-merge report [options] <results-dir>); see time-merge report --help",
    ],
    [
      ['report', 'a', 'b'],
      "time-merge: too many arguments for 'report'. Expected 1 argument but got 2 (usage: time-merge report [options] <results-dir>); see time-merge report --help",
    ],
    [
      ['sim', '--out'],
      "time-merge: option '--out <dir>' argument missing (usage: time-merge sim [options] [study]); see time-merge sim --help",
    ],
    [
      ['techniques', 'tise'],
      expect.stringMatching(
        /^time-merge: unknown merge technique "tise" \(did you mean "ties"\?\) \(known: weighted-average, /,
      ),
    ],
  ])('%j', async (args, line) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr.split('\n')).toEqual([line, '']);
  });

  it('prints the help on --help and the version on --version, with status 0', async () => {
    const help = await runCli(['sim', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: time-merge sim \[options\] \[study\]/);
    for (const flag of ['--version', '-V']) {
      const v = await runCli([flag]);
      expect(v).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });

  it('techniques NAME shows the one technique, by any of its names', async () => {
    const r = await runCli(['techniques', 'ties_merging']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ties \(aliases: ties-merging, ties_merging\)/);
    expect(lines.slice(1).every((l) => l.startsWith('    '))).toBe(true);
    expect(lines.slice(1).map((l) => l.trim().split(' ')[0])).toContain('density');
  });
});

describe('commands registered later inherit the one-line errors', () => {
  it('a new command with a new option and argument exits 2 with one line', async () => {
    const program = new Command().name('time-merge');
    oneLineArgumentErrors(program);
    let err = '';
    program.configureOutput({ writeErr: (s) => (err += s), writeOut: () => undefined });
    program
      .command('merge')
      .argument('<config>')
      .argument('[out]')
      .option('--copy-tokenizer', 'a later option')
      .action(() => undefined);
    for (const [argv, line] of [
      [['merge', 'c.yaml', '--copy-tokenizr'], "unknown option '--copy-tokenizr' (did you mean --copy-tokenizer?)"],
      [['merge', 'c.yaml', 'out', 'extra'], "too many arguments for 'merge'"],
    ] as const) {
      err = '';
      const status = await program.parseAsync(['node', 'time-merge', ...argv]).then(
        () => undefined,
        (e: unknown) => commanderStatus(e),
      );
      expect(status).toBe(2);
      expect(err.split('\n')).toHaveLength(2);
      expect(err).toContain(line);
    }
  });
});
