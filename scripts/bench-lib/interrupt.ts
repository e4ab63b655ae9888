/**
 * Ctrl-C, or a signal sent to the bench or soak process alone: its child processes (nginx,
 * backends, sidecars, agents) and temporary files must not outlive it.
 */

/**
 * Runs `cleanups` one after the other, last added first (a sidecar stops before its
 * configuration is removed), all of them even if one fails; then rejects with the first
 * failure, if any.
 */
export async function runCleanups(cleanups: ReadonlyArray<() => unknown>): Promise<void> {
  let failure: { err: unknown } | undefined;
  for (const cleanup of [...cleanups].reverse()) {
    try {
      await cleanup();
    } catch (err) {
      failure ??= { err };
    }
  }
  if (failure) throw failure.err;
}

/**
 * Until the returned function is called, SIGINT and SIGTERM run `cleanups` (see
 * {@link runCleanups}), then exit with 130.
 */
export function stopOnSignals(
  cleanups: ReadonlyArray<() => unknown>,
  say: (line: string) => void,
): () => void {
  const stop = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping what was started`);
    void runCleanups(cleanups)
      .catch(() => undefined) // exiting anyway; each cleanup has had its turn
      .then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}
