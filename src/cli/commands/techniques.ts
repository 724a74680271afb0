import type { Command } from 'commander';
import { toolkitForms } from '../../merge/dialect-config.js';
import { LINES_PARAMS } from '../../merge/lines.js';
import { listTechniques } from '../../merge/registry.js';
import { techniqueTable } from '../../merge/technique-table.js';
import { DIALECTS, type ParamDoc } from '../../merge/types.js';

function printParams(params: readonly ParamDoc[]): void {
  for (const p of params) {
    const values = p.values ? ` {${p.values.join('|')}}` : '';
    console.log(`    ${p.name} = ${String(p.default)}${values}  ${p.description}`);
  }
}

export function registerTechniques(program: Command): void {
  program
    .command('techniques')
    .description('List every merging technique with its parameters and defaults.')
    .option('--markdown', 'print the technique table of the README and docs/techniques.md')
    .action((o: { markdown?: boolean }) => {
      if (o.markdown) {
        console.log(techniqueTable().join('\n'));
        return;
      }
      for (const t of listTechniques()) {
        const aliases = t.aliases?.length ? ` (aliases: ${t.aliases.join(', ')})` : '';
        const incremental = t.incremental ? ' [incremental]' : '';
        const dialects = DIALECTS.flatMap((d) => toolkitForms(t, d).map((form) => `${d} ${form.method}`));
        const spelled = dialects.length ? ` [configs: ${dialects.join(', ')}]` : '';
        console.log(`${t.name}${aliases}${incremental}${spelled}: ${t.summary}`);
        printParams(t.params);
      }
      console.log(
        'lines (a modifier for any technique: `parameters.lines` in a merge config, or MergeSpec.lines): scale the merged task vector of layer l by alpha + beta·l/(L-1).',
      );
      printParams(LINES_PARAMS);
    });
}
