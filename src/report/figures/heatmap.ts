import type { TopLevelSpec } from 'vega-lite';
import { bestInTimeRun, bestRun, matrixCells, runsTie } from '../aggregate.js';
import type { RunRow } from '../results.js';
import { type FigureResult, fmt, type ReportContext, SCHEMA } from './types.js';

/** Safe file-name part from a label. */
function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

/**
 * The accuracy matrix R[t][j] of one run as a heat map: rows are steps 1..T, columns the evaluated tasks
 * (adaptation tasks, then zero-shot tasks, in a facet each). Mark name `cells`: one rect per (t, j).
 */
export function matrixFigure(ctx: ReportContext, run: RunRow, name: string, which: string): FigureResult {
  const title = `Accuracy matrix: ${which} (${run.method}${run.technique === '-' ? '' : `, ${run.technique}`}, seed ${run.seed})`;
  const cells = matrixCells(ctx.data.matrix, run.run_id);
  if (cells.length === 0) {
    return { kind: 'skipped', name, title, reason: `matrix.csv has no rows for run ${run.run_id}` };
  }
  const steps = new Set(cells.map((c) => c.step)).size;
  const tasks = new Set(cells.map((c) => c.task_index)).size;
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    data: { values: cells.map((c) => ({ ...c, role: c.role === 'zeroshot' ? 'zero-shot tasks' : `${c.role} tasks` })) },
    facet: { column: { field: 'role', type: 'nominal', title: null, sort: 'ascending' } },
    spacing: 16,
    spec: {
      name: 'cells',
      width: { step: tasks > 40 ? 10 : 16 },
      height: { step: steps > 30 ? 10 : 16 },
      mark: { type: 'rect' },
      encoding: {
        x: {
          field: 'task_id',
          type: 'ordinal',
          title: 'evaluated task j',
          sort: { field: 'task_index', op: 'min' },
          axis: { labelAngle: -60, labelLimit: 90, labelFontSize: tasks > 40 ? 8 : 10 },
        },
        y: { field: 'step', type: 'ordinal', title: 'after step t' },
        color: { field: 'score', type: 'quantitative', title: 'score', scale: { scheme: 'viridis', domain: [0, 1] } },
        tooltip: [{ field: 'task_id' }, { field: 'step' }, { field: 'score', format: '.3f' }],
      },
    },
    resolve: { scale: { x: 'independent' } },
  };
  const caption = `R[t][j]: score on task j after step t, ${steps} steps x ${tasks} tasks; run ${run.run_id}, final GM ${run.gm === null ? 'blank' : fmt(run.gm)}.`;
  return { kind: 'figure', name, title, caption, spec };
}

/** Heat maps for the best run and for Best-in-TIME (ema_paint), when they differ. */
export function matrixFigures(ctx: ReportContext): FigureResult[] {
  const title = 'Accuracy matrix';
  if (ctx.data.matrix.length === 0)
    return [{ kind: 'skipped', name: 'matrix', title, reason: 'no matrix.csv in the results folder' }];
  const best = bestRun(ctx.mainRuns);
  if (best === undefined)
    return [{ kind: 'skipped', name: 'matrix', title, reason: 'runs.csv has no non-baseline runs' }];
  const tie = runsTie(ctx.mainRuns);
  const figures = [
    matrixFigure(ctx, best, `matrix-best`, tie ? `run ${best.run_id} (every run ties on final ${tie})` : 'best run'),
  ];
  const bit = bestInTimeRun(ctx.mainRuns, ctx.technique);
  if (bit !== undefined && bit.run_id !== best.run_id) {
    figures.push(matrixFigure(ctx, bit, `matrix-${slug(bit.method)}`, 'Best-in-TIME'));
  }
  return figures;
}
