import { spawnSync } from 'child_process';
import { join } from 'path';
import { REPO_ROOT } from '../helpers/sidecar-process';

const DETECT = join(REPO_ROOT, 'backends', 'anomaly-detection', 'bin', 'detect');

/** The built `detect` executable, as a user runs it (npm test builds first). */
describe('backends/anomaly-detection/bin/detect', () => {
  const run = (input: string, args: string[] = []) =>
    spawnSync(process.execPath, [DETECT, ...args], { input, encoding: 'utf8' });

  it('reads a CSV series and prints the anomalous windows as JSON', () => {
    const start = 1_795_000_000;
    const lines = ['unix_seconds,value'];
    // Seeded noise of about ±3 % (an LCG): the detector judges against the series' own noise.
    let seed = 42;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.06;
    for (let i = 0; i < 600; i++) {
      const spike = i >= 400 && i < 406;
      const value = (spike ? 50 : 10) * (1 + noise());
      lines.push(`${start + i * 60},${value.toFixed(3)}`);
    }
    const result = run(lines.join('\n') + '\n', ['--step', '60']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout) as {
      points: number;
      windows: { start: number; end: number; score: number }[];
    };
    expect(output.points).toBe(600);
    expect(output.windows).toHaveLength(1);
    const [window] = output.windows;
    expect(window.start).toBeGreaterThanOrEqual(start + 399 * 60);
    expect(window.start).toBeLessThanOrEqual(start + 401 * 60);
    expect(window.score).toBeGreaterThan(5);
    expect(window.score).toBeLessThanOrEqual(10);
  });

  it('names the line of bad input and exits 2 without a stack trace', () => {
    const result = run('1795300000,1\n1795300300,oops\n');
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('detect: line 2: value "oops" is not a number\n');
  });
});
