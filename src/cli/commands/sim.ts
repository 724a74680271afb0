import type { Command } from 'commander';

export function registerSim(program: Command): void {
  program.command('sim').description('(not yet available)').action(() => {
    console.log('sim: not yet available');
  });
}
