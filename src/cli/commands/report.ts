import type { Command } from 'commander';

export function registerReport(program: Command): void {
  program.command('report').description('(not yet available)').action(() => {
    console.log('report: not yet available');
  });
}
