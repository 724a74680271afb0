import type { Command } from 'commander';

export function registerStart(program: Command): void {
  program.command('start').description('(not yet available)').action(() => {
    console.log('start: not yet available');
  });
}
