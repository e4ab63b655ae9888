import { cpuSeconds } from '../../helpers/processes';

describe('cpuSeconds (the CPU column of npm run bench)', () => {
  it("agrees with Node's own count of this process's CPU time", () => {
    const before = cpuSeconds([process.pid]);
    const usage = process.cpuUsage();
    // Spin until Node counts 0.3 s of CPU (bounded in wall time for a starved machine).
    const deadline = Date.now() + 20_000;
    let spent = 0;
    while (spent < 0.3 && Date.now() < deadline) {
      const { user, system } = process.cpuUsage(usage);
      spent = (user + system) / 1e6;
    }
    const counted = cpuSeconds([process.pid]) - before;
    expect(spent).toBeGreaterThanOrEqual(0.3);
    // /proc counts 10 ms ticks: allow a few ticks either way, plus other threads' work.
    expect(counted).toBeGreaterThan(spent - 0.05);
    expect(counted).toBeLessThan(spent + 0.5);
  });

  it('is NaN for a process that does not exist', () => {
    expect(cpuSeconds([2 ** 22 + 1])).toBeNaN();
  });
});
