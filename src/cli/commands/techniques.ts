import type { Command } from 'commander';
import { listTechniques } from '../../merge/registry.js';

export function registerTechniques(program: Command): void {
  program
    .command('techniques')
    .description('List every merging technique with its parameters and defaults.')
    .action(() => {
      for (const t of listTechniques()) {
        const aliases = t.aliases?.length ? ` (aliases: ${t.aliases.join(', ')})` : '';
        console.log(`${t.name}${aliases}: ${t.summary}`);
        for (const p of t.params) {
          const values = p.values ? ` {${p.values.join('|')}}` : '';
          console.log(`    ${p.name} = ${String(p.default)}${values}  ${p.description}`);
        }
      }
    });
}
