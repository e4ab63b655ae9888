import { readdirSync, readFileSync, statSync } from 'fs';
import { OutgoingHttpHeaders, validateHeaderName, validateHeaderValue } from 'http';
import { join } from 'path';

interface HeaderSet {
  all: Map<string, string>;
  byHost: Map<string, Map<string, string>>;
}

/**
 * Headers the agent adds from its own secret directory (`--secret-dir`), so credentials for
 * backends in its network never travel through the sidecar:
 *   DIR/<Header-Name>          added to every request;
 *   DIR/<host>/<Header-Name>   added to requests for that host only (wins over the above).
 * The layout a Kubernetes Secret volume gives (with `items[].path` for per-host files);
 * entries starting with `.` (the volume's `..data` machinery) are skipped. The directory is
 * read again every `refreshMs`, so a rotated Secret applies without a restart; a reading
 * that fails keeps the last good one.
 */
export class SecretHeaders {
  private current: HeaderSet = { all: new Map(), byHost: new Map() };
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    this.current = readHeaderDir(dir);
  }

  /** Re-reads the directory periodically (the timer does not keep the process alive). */
  watch(refreshMs: number): void {
    this.timer = setInterval(() => {
      try {
        this.current = readHeaderDir(this.dir);
      } catch (err) {
        this.onError(err instanceof Error ? err.message : String(err));
      }
    }, refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Every value, so logs can redact them. */
  values(): string[] {
    const values = [...this.current.all.values()];
    for (const headers of this.current.byHost.values()) values.push(...headers.values());
    return values;
  }

  /** Sets this host's secret headers on `headers`, replacing any the sidecar sent. */
  apply(headers: OutgoingHttpHeaders, host: string): void {
    const set = (name: string, value: string) => {
      headers[name] = value;
    };
    this.current.all.forEach((value, name) => set(name, value));
    this.current.byHost.get(host)?.forEach((value, name) => set(name, value));
  }
}

/** Throws with a message naming the file on anything unusable. */
export function readHeaderDir(dir: string): HeaderSet {
  const all = readHeaderFiles(dir);
  const byHost = new Map<string, Map<string, string>>();
  for (const entry of visibleEntries(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) byHost.set(entry.toLowerCase(), readHeaderFiles(path));
  }
  return { all, byHost };
}

function visibleEntries(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .sort();
}

function readHeaderFiles(dir: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const entry of visibleEntries(dir)) {
    const path = join(dir, entry);
    if (!statSync(path).isFile()) continue;
    const name = entry.toLowerCase();
    // A trailing newline (from `echo` or an editor) is not part of the value.
    const value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      // SECURITY: name the file, never echo the value.
      throw new Error(`${path}: not a valid header name or value`);
    }
    headers.set(name, value);
  }
  return headers;
}
