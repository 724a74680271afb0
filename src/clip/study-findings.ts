import { basename } from 'node:path';
import { diagnosticsMarkdown, type DiagnosticsRow } from '../study/diagnostics-run.js';
import { evaluateFindings, FINDING_IDS, findingsMarkdown, type FindingResult } from '../study/findings.js';
import { toRows } from '../study/rows.js';
import type { ResultRun } from '../time/results.js';
import type { ClipStudy } from './study.js';

/**
 * The paper's claims judged on a clip study's runs, as synthetic studies judge theirs: every claim is
 * checked, and one whose cells the grid lacks (two techniques, replay and no replay, several scales) is
 * reported as not tested with what it needs. findings.md gets the diagnostics section when there are any.
 */
export function clipFindings(
  s: ClipStudy,
  context: { stream: string; backend: string },
  runs: readonly ResultRun[],
  diagnostics?: readonly DiagnosticsRow[],
): { findings: FindingResult[]; markdown: string } {
  const findings = evaluateFindings(FINDING_IDS, toRows(runs));
  const r = s.replay;
  const description =
    `CLIP ${basename(s.model)} on the FoMo-in-Flux stream ${context.stream}, ${s.steps} steps x batch ${s.batch} per task, ` +
    `lr ${s.lr}, replay ${r.pretrain}/${r.current}/${r.buffer} (pretraining/current/buffer), technique ${s.technique}, backend ${context.backend}.`;
  const markdown =
    findingsMarkdown(s.study, description, findings, runs.length, s.seeds) +
    (diagnostics?.length ? `\n${diagnosticsMarkdown(diagnostics)}` : '');
  return { findings, markdown };
}
