import { detectAnomalies } from '../detector';
import { EVAL_SEED, generateEvalSet, SERIES_PER_FAMILY } from './eval-set';
import type { AnomalyType, Family } from './eval-set';
import { scoreOutcomes, type EvalReport } from './score-eval';

/** The evaluation's targets; `npm run eval` exits 1 when one is missed. */
export const F1_TARGETS: Record<AnomalyType, number> = {
  spike: 0.95,
  level_shift: 0.95,
  drift: 0.9,
  burst: 0.9,
};
/** Most false-positive windows allowed per clean day (in the scored ranges). */
export const MAX_FALSE_POSITIVES_PER_CLEAN_DAY = 0.1;
/** Most series (of SERIES_PER_FAMILY) in which a recurrence may be flagged. */
export const MAX_FLAGGED_RECURRENCES = 1;
/** Longest the detector may take on one series (seconds). */
export const MAX_SECONDS_PER_SERIES = 30;

/** What each family's recurrences are, for the report. */
const RECURRENCES: Partial<Record<Family, string>> = {
  past_incident: "the hours of last week's incident, a week later (an echo)",
  weekly_job: 'the third occurrence of a weekly job',
};

/** Runs the detector over the evaluation set generated from `seed` and scores it. */
export function runEval(seed = EVAL_SEED): EvalReport {
  const outcomes = generateEvalSet(seed).map((series) => {
    const started = process.hrtime.bigint();
    const { windows } = detectAnomalies(series.points, { step: series.step });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { series, windows, seconds };
  });
  return scoreOutcomes(outcomes);
}

/** Formats a report as a plain-text table; returns it with the list of missed targets. */
export function formatReport(
  report: EvalReport,
  seed = EVAL_SEED,
): { text: string; failures: string[] } {
  const failures: string[] = [];
  const lines = [
    `evaluation set: ${SERIES_PER_FAMILY} series per family, seed ${seed}; see README.md`,
    '',
    'type         labels  found  under way  detected  precision  recall     F1  target',
  ];
  for (const s of report.byType.filter((score) => score.labels > 0)) {
    const target = F1_TARGETS[s.type];
    if (s.f1 < target) failures.push(`${s.type} F1 ${fmt(s.f1)} < ${target}`);
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
        `>= ${target}`.padStart(7),
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
    lines.push(`  ${family.padEnd(15)} ${fmt(perDay ?? 0)} per clean day`);
  }
  lines.push(
    '',
    `recurrences that must not alert (series flagged / series, target <= ${MAX_FLAGGED_RECURRENCES}):`,
  );
  for (const [family, counts] of Object.entries(report.recurrencesByFamily)) {
    if (!counts) continue;
    if (counts.flagged > MAX_FLAGGED_RECURRENCES) {
      failures.push(
        `${family} recurrences flagged in ${counts.flagged} series > ${MAX_FLAGGED_RECURRENCES}`,
      );
    }
    lines.push(
      `  ${family.padEnd(15)} ${counts.flagged} / ${counts.series}  ${RECURRENCES[family as Family] ?? ''}`,
    );
  }
  const slow = report.slowestSeries;
  if (slow.seconds >= MAX_SECONDS_PER_SERIES) {
    failures.push(`${slow.name} took ${slow.seconds.toFixed(1)} s >= ${MAX_SECONDS_PER_SERIES} s`);
  }
  lines.push(
    '',
    `slowest series: ${slow.name}, ${slow.seconds.toFixed(2)} s (target < ${MAX_SECONDS_PER_SERIES} s)`,
    '',
    failures.length === 0 ? 'all targets met' : `MISSED: ${failures.join('; ')}`,
  );
  return { text: lines.join('\n'), failures };
}

function fmt(x: number): string {
  return x.toFixed(3);
}

/** `--seed N`: another generated set (the default is the set the README reports). */
function seedArgument(argv: string[]): number | undefined {
  const i = argv.indexOf('--seed');
  if (i === -1) return EVAL_SEED;
  const value = Number(argv[i + 1]);
  return Number.isSafeInteger(value) ? value : undefined;
}

if (require.main === module) {
  const seed = seedArgument(process.argv.slice(2));
  if (seed === undefined) {
    process.stderr.write('run-eval: --seed takes a whole number, e.g. --seed 2\n');
    process.exitCode = 2;
  } else {
    const started = Date.now();
    const { text, failures } = formatReport(runEval(seed), seed);
    process.stdout.write(`${text}\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    process.exitCode = failures.length === 0 ? 0 : 1;
  }
}
