/**
 * Runs `work` and counts the turns of the event loop (setImmediate callbacks) that happen
 * before it settles: zero for work that never yields, whatever the machine's speed.
 */
export async function countTurns<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = (): void => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await work(), turns };
  } finally {
    done = true;
  }
}
