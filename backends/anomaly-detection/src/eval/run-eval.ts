import { detectAnomalies } from '../detector';
import { generateEvalSet, SERIES_PER_FAMILY } from './eval-set';
import type { AnomalyType } from './eval-set';
import { scoreOutcomes, type EvalReport } from './score-eval';

/** Targets from issue 4; `npm run eval` exits 1 when one is missed. */
export const F1_TARGETS: Partial<Record<AnomalyType, number>> = {
  spike: 0.9,
  level_shift: 0.9,
  drift: 0.7,
};
/** Most false-positive windows allowed per clean day. */
export const MAX_FALSE_POSITIVES_PER_CLEAN_DAY = 1;

/** Runs the detector over the evaluation set and scores it. */
export function runEval(): EvalReport {
  const outcomes = generateEvalSet().map((series) => ({
    series,
    windows: detectAnomalies(series.points, { step: series.step }).windows,
  }));
  return scoreOutcomes(outcomes);
}

/** Formats the report as a plain-text table; returns it with the list of missed targets. */
export function formatReport(report: EvalReport): { text: string; failures: string[] } {
  const failures: string[] = [];
  const lines = [
    `evaluation set: ${SERIES_PER_FAMILY} series per family, seeded; see README.md`,
    '',
    'type         labels  found  detected  precision  recall     F1  target',
  ];
  for (const s of report.byType) {
    const target = F1_TARGETS[s.type];
    if (target !== undefined && s.f1 < target)
      failures.push(`${s.type} F1 ${fmt(s.f1)} < ${target}`);
    lines.push(
      [
        s.type.padEnd(12),
        String(s.labels).padStart(6),
        String(s.found).padStart(6),
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
  lines.push('', failures.length === 0 ? 'all targets met' : `MISSED: ${failures.join('; ')}`);
  return { text: lines.join('\n'), failures };
}

function fmt(x: number): string {
  return x.toFixed(3);
}

if (require.main === module) {
  const started = Date.now();
  const { text, failures } = formatReport(runEval());
  process.stdout.write(`${text}\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}
