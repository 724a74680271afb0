import type { Command } from 'commander';

export function registerMerge(program: Command): void {
  program.command('merge <config>').description('(not yet available)').action(() => {
    console.log('merge: not yet available');
  });
}
