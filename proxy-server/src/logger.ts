/**
 * JSON-lines logger on stdout. Kept tiny on purpose: the hot path logs one line per
 * request and must not pay for a framework.
 *
 * SECURITY: callers pass structured fields, never raw headers. `redact` replaces known
 * secret values (registered when config loads) so that a secret that slipped into an
 * error message still never reaches the log.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  /** `fields` are added after `time`, `level` and `msg` (which they must not repeat). */
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Registers values that must never appear in a log line (secrets, tokens). */
  setSecrets(values: Iterable<string>): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
}

/** Secrets shorter than this are not redacted: replacing "a" everywhere would garble logs. */
const MIN_REDACTED_LENGTH = 4;

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? batchedStdout();
  let secrets: string[] = [];

  const redact = (line: string): string => {
    for (const secret of secrets) {
      if (line.includes(secret)) line = line.split(secret).join('[REDACTED]');
    }
    return line;
  };

  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < threshold) return;
    // `{"time":…,"level":…,"msg":…, …fields}`, serialized without first copying the fields
    // into a new object (a third of the cost of the per-request line). The time is ISO 8601
    // and the level one of four words: neither needs escaping.
    const head = `{"time":"${isoNow()}","level":"${level}","msg":${JSON.stringify(msg)}`;
    const rest = fields === undefined ? '{}' : JSON.stringify(fields);
    write(redact(rest.length > 2 ? `${head},${rest.slice(1)}\n` : `${head}}\n`));
  };

  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    setSecrets(values) {
      // JSON.stringify escapes some characters; redact both forms.
      const all = new Set<string>();
      for (const value of values) {
        if (value.length < MIN_REDACTED_LENGTH) continue;
        all.add(value);
        all.add(JSON.stringify(value).slice(1, -1));
      }
      secrets = [...all].sort((a, b) => b.length - a.length);
    },
  };
}

let lastMs = 0;
let lastIso = '';
/** The current time in ISO 8601, formatted once per millisecond (busy proxies log many per ms). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** Lines are written together once this much is pending, without waiting for the tick. */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * Writes to stdout, batching the lines logged in one event-loop turn into one write (stdout
 * to a pipe or file is a synchronous system call per write in Node; one per request line
 * cost ~5% of the sidecar's throughput). Pending lines are flushed at the end of the turn,
 * beyond 64 KiB, and when the process exits, so nothing logged is lost.
 */
function batchedStdout(): (line: string) => void {
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    process.stdout.write(text);
  };
  process.once('exit', flush);
  return (line) => {
    pending += line;
    if (pending.length >= MAX_PENDING_CHARS) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

/** A logger that drops everything; for unit tests and library use. */
export const NOOP_LOGGER: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setSecrets: () => undefined,
};
