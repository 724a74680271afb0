import { LINES_PARAMS } from './lines.js';
import { listTechniques } from './registry.js';
import type { ParamDoc } from './types.js';

/**
 * The technique table of the README and docs/techniques.md, generated from the registry
 * (`time-merge techniques --markdown`), so the documents and the code cannot disagree; a test checks
 * that both documents hold exactly these lines.
 */
export function techniqueTable(): string[] {
  const params = (docs: readonly ParamDoc[]) =>
    docs.map((d) => `\`${d.name}\` (${d.shown ?? String(d.default)})`).join(', ');
  const rows = listTechniques().map((t) => {
    const aliases = t.aliases?.length ? ` (${t.aliases.map((a) => `\`${a}\``).join(', ')})` : '';
    return `| \`${t.name}\`${aliases} | ${params(t.params) || 'none'} | ${t.facts.toolkits} |`;
  });
  return [
    '| technique (aliases) | parameters (default) | toolkit settings |',
    '|---|---|---|',
    ...rows,
    `| LiNeS modifier (\`parameters.lines\`) | ${params(LINES_PARAMS)} | LiNeS reference code; fomo_in_flux \`lines_params\` (alpha, beta, and its scaling type as \`curve\`) |`,
  ];
}
