import { type Command, CommanderError } from 'commander';
import { closest } from '../params/did-you-mean.js';

/**
 * Commander's message for a bad command line (unknown command or option, missing or extra argument,
 * missing option value) as one line: `time-merge: unknown option '--outt' (did you mean --out?)`, and
 * where the usage helps, the command's usage. The help itself is printed only on --help.
 */
export function argumentErrorLine(message: string, program: Command, argv: readonly string[]): string {
  let text = message
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\(Did you mean (.+)\?\)$/, ' (did you mean $1?)')
    .replace(/\s*\n\s*/g, ' ');
  const args = argv.slice(2);
  const command = program.commands.find((c) => args.includes(c.name()));
  if (/^unknown command/.test(text) && !/did you mean/.test(text)) {
    // Commander suggests only near spellings of whole names; a prefix (`tech`) is as good a hint.
    const word = /'([^']*)'/.exec(text)?.[1] ?? '';
    const names = program.commands.map((c) => c.name());
    const near = [...closest(word, names), ...names.filter((n) => word.length >= 2 && n.startsWith(word))];
    if (near.length) text += ` (did you mean ${[...new Set(near)].join(' or ')}?)`;
  }
  if (/^(missing required argument|too many arguments|option .* argument missing)/.test(text) && command)
    text = `${text.replace(/\.$/, '')} (usage: ${program.name()} ${command.name()} ${command.usage()})`;
  return `${program.name()}: ${text}; see ${program.name()}${command ? ` ${command.name()}` : ''} --help`;
}

/**
 * Makes every command of `program`, those registered after this call included (they inherit it),
 * report a bad command line as one line on stderr and exit with status 2 instead of 1 and the help.
 * Call before registering the commands. --help and --version still exit 0.
 */
export function oneLineArgumentErrors(program: Command): void {
  program.exitOverride();
  program.showSuggestionAfterError(true);
  program.configureOutput({
    outputError: (message, write) => write(`${argumentErrorLine(message, program, process.argv)}\n`),
  });
}

/** The exit status for an error commander threw (after exitOverride): 0 for --help/--version, else 2. */
export function commanderStatus(err: unknown): number | undefined {
  if (!(err instanceof CommanderError)) return undefined;
  return err.exitCode === 0 ? 0 : 2;
}
