import { runBounded } from '../../../../backends/anomaly-detection/src/service/run-bounded';

/** Tasks that count how many run at once and yield before answering. */
function countingTasks(n: number, fail?: number) {
  const state = { started: 0, inFlight: 0, maxInFlight: 0 };
  const tasks = Array.from({ length: n }, (_, i) => async () => {
    state.started++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    state.inFlight--;
    if (i === fail) throw new Error(`task ${i} failed`);
    return i * 10;
  });
  return { tasks, state };
}

describe('runBounded', () => {
  it('returns the results in order with at most `limit` tasks in flight', async () => {
    const { tasks, state } = countingTasks(10);
    await expect(runBounded(tasks, 3)).resolves.toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(state.maxInFlight).toBe(3);
  });

  it('rejects with the first failure and starts no task after it', async () => {
    const { tasks, state } = countingTasks(10, 1);
    await expect(runBounded(tasks, 2)).rejects.toThrow('task 1 failed');
    // Tasks 0 and 1 ran together; task 0's worker took task 2 before task 1 failed.
    expect(state.started).toBeLessThanOrEqual(3);
  });

  it('handles no tasks and a limit above their number', async () => {
    await expect(runBounded([], 4)).resolves.toEqual([]);
    const { tasks, state } = countingTasks(2);
    await expect(runBounded(tasks, 4)).resolves.toEqual([0, 10]);
    expect(state.maxInFlight).toBe(2);
  });
});
