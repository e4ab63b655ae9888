import { formatReport, runSoak, soakProblems } from '../../scripts/soak';

const SECONDS = Number(process.env.SOAK_TEST_SECONDS ?? 60);

/**
 * The short version of `npm run soak`: a minute of steady load with faults injected (a
 * misbehaving backend, the delegate agent killed and restarted, policy reloads, a rejected
 * invalid configuration, forged/expired tokens, a denied user, a rate limit). Nothing
 * unexpected, nothing leaked, memory and sockets back where they were.
 */
describe('soak', () => {
  it(
    `runs ${SECONDS} s under faults with nothing unexpected and nothing leaked`,
    async () => {
      const report = await runSoak({ durationS: SECONDS });
      process.stdout.write(formatReport(report));
      expect(report.requests).toBeGreaterThan(0);
      // Each fault actually happened (so the checks below mean something).
      expect(report.faults['agent-killed']).toBeGreaterThanOrEqual(1);
      expect(report.faults['invalid-config']).toBeGreaterThanOrEqual(1);
      expect(report.outcomes['401']).toBeGreaterThan(0);
      expect(report.outcomes['403']).toBeGreaterThan(0);
      expect(report.outcomes['429']).toBeGreaterThan(0);
      expect(report.outcomes['500']).toBeGreaterThan(0);
      // Includes RSS under the same load at the start and the end: growth < 10 %.
      expect(soakProblems(report)).toEqual([]);
    },
    (SECONDS + 60) * 1000,
  );
});
