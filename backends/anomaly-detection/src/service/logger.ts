/** One JSON object per line, so log pipelines need no parser configuration. */
export type Logger = (
  level: 'info' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** A logger writing JSON lines to `write` (stdout in the command). */
export function createJsonLogger(write: (line: string) => void): Logger {
  return (level, msg, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
}
