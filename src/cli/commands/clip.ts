import type { Command } from 'commander';

export function registerClip(program: Command): void {
  program.command('clip').description('(not yet available)').action(() => {
    console.log('clip: not yet available');
  });
}
