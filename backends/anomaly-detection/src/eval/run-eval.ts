import { detectAnomalies } from '../detector';
import { type EvalLayout, generateEvalSet, SERIES_PER_FAMILY } from './eval-set';
import type { AnomalyType } from './eval-set';
import { scoreOutcomes, type EvalReport } from './score-eval';

/** Targets from issue 4; `npm run eval` exits 1 when one is missed (in either layout). */
export const F1_TARGETS: Partial<Record<AnomalyType, number>> = {
  spike: 0.9,
  level_shift: 0.9,
  drift: 0.7,
};
/** Most false-positive windows allowed per clean day. */
export const MAX_FALSE_POSITIVES_PER_CLEAN_DAY = 1;

/** What each family's recurrences are, for the report. */
const RECURRENCES: Record<string, string> = {
  past_incident: "the hours of last week's incident, a week later",
  weekly_job: 'the third occurrence of a weekly job',
};

/** What each layout is, for the report. */
const LAYOUTS: Record<EvalLayout, string> = {
  standard: 'standard set',
  two_weeks_history: 'spikes, level shifts and drifts in week 3, after two weeks of history',
};

/** Runs the detector over the evaluation set (one layout) and scores it. */
export function runEval(layout: EvalLayout = 'standard'): EvalReport {
  const outcomes = generateEvalSet(undefined, layout).map((series) => ({
    series,
    windows: detectAnomalies(series.points, { step: series.step }).windows,
  }));
  return scoreOutcomes(outcomes);
}

/**
 * Formats the reports of both layouts as plain-text tables; returns them with the list of
 * missed targets (each prefixed with its layout).
 */
export function formatReports(reports: Record<EvalLayout, EvalReport>): {
  text: string;
  failures: string[];
} {
  const parts: string[] = [
    `evaluation set: ${SERIES_PER_FAMILY} series per family, seeded; see README.md`,
  ];
  const failures: string[] = [];
  for (const layout of Object.keys(LAYOUTS) as EvalLayout[]) {
    const formatted = formatReport(reports[layout]);
    parts.push('', `== ${layout}: ${LAYOUTS[layout]}`, '', formatted.text);
    failures.push(...formatted.failures.map((failure) => `${layout}: ${failure}`));
  }
  parts.push('', failures.length === 0 ? 'all targets met' : `MISSED: ${failures.join('; ')}`);
  return { text: parts.join('\n'), failures };
}

/** Formats one report as a plain-text table; returns it with the list of missed targets. */
export function formatReport(report: EvalReport): { text: string; failures: string[] } {
  const failures: string[] = [];
  const lines = [
    'type         labels  found  under way  detected  precision  recall     F1  target',
  ];
  for (const s of report.byType.filter((score) => score.labels > 0)) {
    const target = F1_TARGETS[s.type];
    if (target !== undefined && s.f1 < target)
      failures.push(`${s.type} F1 ${fmt(s.f1)} < ${target}`);
    lines.push(
      [
        s.type.padEnd(12),
        String(s.labels).padStart(6),
        String(s.found).padStart(6),
        String(s.foundUnderWay).padStart(10),
        String(s.detected).padStart(9),
        fmt(s.precision).padStart(10),
        fmt(s.recall).padStart(7),
        fmt(s.f1).padStart(6),
        (target === undefined ? '-' : `>= ${target}`).padStart(7),
      ].join(' '),
    );
  }
  const fp = report.falsePositivesPerCleanDay;
  if (fp > MAX_FALSE_POSITIVES_PER_CLEAN_DAY) {
    failures.push(
      `false positives ${fmt(fp)} per clean day > ${MAX_FALSE_POSITIVES_PER_CLEAN_DAY}`,
    );
  }
  lines.push(
    '',
    `false-positive windows: ${report.falsePositiveWindows} over ${report.cleanDays.toFixed(1)} clean days` +
      ` = ${fmt(fp)} per clean day (target <= ${MAX_FALSE_POSITIVES_PER_CLEAN_DAY})`,
  );
  for (const [family, perDay] of Object.entries(report.falsePositivesPerDayByFamily)) {
    lines.push(`  ${family.padEnd(14)} ${fmt(perDay ?? 0)} per clean day`);
  }
  const recurrences = Object.entries(report.recurrencesByFamily);
  if (recurrences.length > 0) {
    lines.push('', 'recurrences that must not alert (flagged / total):');
    for (const [family, counts] of recurrences) {
      lines.push(
        `  ${family.padEnd(14)} ${counts?.flagged} / ${counts?.spans}  ${RECURRENCES[family]}`,
      );
    }
  }
  return { text: lines.join('\n'), failures };
}

function fmt(x: number): string {
  return x.toFixed(3);
}

if (require.main === module) {
  const started = Date.now();
  const { text, failures } = formatReports({
    standard: runEval('standard'),
    two_weeks_history: runEval('two_weeks_history'),
  });
  process.stdout.write(`${text}\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}
