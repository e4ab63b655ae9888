import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import { REPO_ROOT } from './sidecar-process';

const BACKEND_BIN = join(REPO_ROOT, 'backends', 'anomaly-detection', 'bin', 'anomaly-backend');

export interface AnomalyBackendOptions {
  /** HOST:PORT; default an ephemeral loopback port (kept across a stop and a start). */
  listen?: string;
  /** The data source; default `--sample` (generated sample data, `"source": "sample"`). */
  args?: string[];
  /** Copy its stderr to this process's stderr (npm start). */
  echoStderr?: boolean;
  /** Keep no log line once it listens (npm start: one line per request adds up). */
  discardLogAfterStart?: boolean;
}

/**
 * bin/anomaly-backend as a child process (npm run build first). Its JSON log lines are kept,
 * so a test can see which requests reached it; stopped, it can start again on the same port.
 */
export class AnomalyBackendProcess {
  readonly lines: string[] = [];
  /** `http://HOST:PORT` once it listens. */
  url = '';
  private child?: ChildProcess;

  constructor(private readonly options: AnomalyBackendOptions = {}) {}

  /** Starts it and resolves once it listens; rejects with its output if it exits first. */
  async start(): Promise<this> {
    const listen = this.url
      ? this.url.slice('http://'.length)
      : (this.options.listen ?? '127.0.0.1:0');
    const child = spawn(
      process.execPath,
      [BACKEND_BIN, '--listen', listen, ...(this.options.args ?? ['--sample'])],
      {
        env: { PATH: process.env.PATH },
        stdio: ['ignore', 'pipe', this.options.echoStderr ? 'inherit' : 'pipe'],
      },
    );
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => this.lines.push(chunk));
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      let listening = false;
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const line of parts) {
          if (this.options.discardLogAfterStart && listening) continue;
          this.lines.push(line);
          const entry = parseJson(line);
          if (entry?.msg === 'listening' && typeof entry.address === 'string') {
            this.url = `http://${entry.address}`;
            listening = true;
            resolve();
          }
        }
      });
      child.once('exit', (code) =>
        reject(
          new Error(
            `the anomaly backend exited (${code}) — is ${listen} free?\n${this.lines.join('\n')}`,
          ),
        ),
      );
    });
    return this;
  }

  /** SIGTERM, and resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Its process id while it runs (NaN otherwise). */
  get pid(): number {
    return this.running ? (this.child?.pid ?? NaN) : NaN;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its access log: one entry per request it answered (method, path with query, status, user). */
  requestLogs(): Array<{ path: string; status: number; user?: string; application?: string }> {
    return this.lines.flatMap((line) => {
      const entry = parseJson(line);
      return entry?.msg === 'request'
        ? [entry as unknown as { path: string; status: number; user?: string }]
        : [];
    });
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
