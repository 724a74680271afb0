import type { TopLevelSpec } from 'vega-lite';
import { median } from '../../study/rows.js';
import { methodPoints, spreads } from '../aggregate.js';
import { type FigureResult, fmt, type ReportContext, SCHEMA } from './types.js';

/**
 * Technique spread vs protocol spread: for each protocol, the range of final GM over techniques; for each
 * technique, the range over protocols. Mark name `spreads`: one bar per protocol and per technique.
 */
export function spreadFigure(ctx: ReportContext): FigureResult {
  const title = 'Technique spread vs protocol spread';
  const bars = spreads(methodPoints(ctx.mainRuns));
  const acrossTech = bars.filter((b) => b.kind === 'across techniques');
  const acrossProto = bars.filter((b) => b.kind === 'across protocols');
  if (acrossTech.length === 0 || acrossProto.length === 0) {
    return {
      kind: 'skipped',
      name: 'spread',
      title,
      reason:
        'needs at least one protocol run with two or more techniques and one technique run under two or more protocols',
    };
  }
  const rows = bars.map((b) => ({
    ...b,
    label: `${b.kind === 'across techniques' ? 'protocol' : 'technique'}: ${b.fixed}`,
  }));
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    width: 420,
    height: { step: 18 },
    data: { values: rows },
    layer: [
      {
        name: 'spreads',
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'label', type: 'nominal', title: null, sort: { field: 'kind' }, axis: { labelLimit: 320 } },
          x: { field: 'range', type: 'quantitative', title: 'range of final GM (max - min)' },
          color: {
            field: 'kind',
            type: 'nominal',
            title: 'GM range',
            scale: { domain: ['across techniques', 'across protocols'], range: ['#4c78a8', '#e45756'] },
          },
          tooltip: [
            { field: 'label' },
            { field: 'min', format: '.3f' },
            { field: 'max', format: '.3f' },
            { field: 'count' },
          ],
        },
      },
    ],
  };
  const mt = median(acrossTech.map((b) => b.range));
  const mp = median(acrossProto.map((b) => b.range));
  const caption =
    `Blue: for a fixed protocol, how far final GM moves across techniques (median range ${fmt(mt)}). ` +
    `Red: for a fixed technique, how far it moves across protocols (median range ${fmt(mp)}). ` +
    (mp > mt
      ? 'Here the protocol matters more than the technique.'
      : 'Here the technique matters at least as much as the protocol.');
  return { kind: 'figure', name: 'spread', title, caption, spec };
}
