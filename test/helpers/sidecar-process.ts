import { ChildProcess, spawn } from 'child_process';
import { existsSync } from 'fs';
import { dirname, join } from 'path';
import { NODE_FLAGS } from '../../proxy-server/src/node-flags';

/** The checkout's root, from the source tree (jest) or from dist/ (npm start). */
function findRepoRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot(__dirname);
export const BIN = join(REPO_ROOT, 'proxy-server', 'bin', 'argocd-extension-proxy');
/** Node options that let {@link SidecarProcess.collectGarbage} work (test instrumentation). */
export const GC_ON_SIGNAL = [
  '--expose-gc',
  '--require',
  join(REPO_ROOT, 'test', 'helpers', 'preload', 'gc-on-signal.js'),
];

export interface SidecarProcessOptions {
  /** Default: an ephemeral loopback port. */
  listen?: string;
  adminListen?: string;
  /** Copy the sidecar's output to this process's stdout/stderr as it comes. */
  echo?: boolean;
  /** Keep no output once it listens (benchmarks: one log line per request adds up). */
  discardOutputAfterStart?: boolean;
  /** `delegate` runs the agent instead (it has an admin port only). Default: `serve`. */
  command?: 'serve' | 'delegate';
  /** Run the process inside this network namespace (`ip netns exec`; needs root). */
  netns?: string;
  /** More Node options, before the script (after the product's NODE_FLAGS). */
  nodeArgs?: string[];
  /** A command that runs Node, with its options (valgrind, for one); not with `netns`. */
  wrapper?: string[];
}

/**
 * The real sidecar as a child process (`argocd-extension-proxy serve`), on ephemeral
 * loopback ports read back from its "listening" log line. Every stdout/stderr line is kept
 * so tests can assert on logs (and that secrets never appear in them).
 */
export class SidecarProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  url = '';
  adminUrl = '';
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv = {},
    private readonly options: SidecarProcessOptions = {},
  ) {}

  private spawnServe(): ChildProcess {
    const listen = this.options.listen ?? '127.0.0.1:0';
    const admin = this.options.adminListen ?? '127.0.0.1:0';
    const command = this.options.command ?? 'serve';
    const listenArgs =
      command === 'serve'
        ? ['--listen', listen, '--admin-listen', admin]
        : ['--admin-listen', admin];
    const argv = [
      ...NODE_FLAGS,
      ...(this.options.nodeArgs ?? []),
      BIN,
      command,
      ...listenArgs,
      ...this.args,
    ];
    const env = { PATH: process.env.PATH, ...this.env };
    const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
    if (this.options.netns) {
      return spawn('ip', ['netns', 'exec', this.options.netns, process.execPath, ...argv], {
        env,
        stdio,
      });
    }
    const [program, ...programArgs] = [...(this.options.wrapper ?? []), process.execPath, ...argv];
    return spawn(program, programArgs, { env, stdio });
  }

  /** Starts and waits until it listens; rejects with its output if it exits first. */
  async start(): Promise<this> {
    const child = this.spawnServe();
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    collectLines(
      child.stderr!,
      this.stderr,
      this.options.echo ? (l) => process.stderr.write(l + '\n') : undefined,
    );
    const listening = new Promise<void>((resolve, reject) => {
      collectLines(child.stdout!, this.stdout, (line) => {
        if (this.options.echo) process.stdout.write(line + '\n');
        try {
          const entry = JSON.parse(line) as { msg?: string; address?: string; admin?: string };
          if (entry.msg === 'listening' && entry.address && entry.admin) {
            this.url = `http://${entry.address}`;
            this.adminUrl = `http://${entry.admin}`;
            resolve();
          } else if (entry.msg === 'delegate agent starting' && entry.admin) {
            this.adminUrl = `http://${entry.admin}`;
            resolve();
          }
        } catch {
          // not JSON: kept in stdout for the assertion message
        }
      });
      void this.exited!.then((code) =>
        reject(new Error(`sidecar exited (${code}) before listening:\n${this.output()}`)),
      );
    });
    await listening;
    if (this.options.discardOutputAfterStart) {
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
    }
    return this;
  }

  /** Resolves with the exit code (for a process expected to exit by itself). */
  waitForExit(): Promise<number | null> {
    return this.exited ?? Promise.resolve(null);
  }

  /** Runs to completion: for a start that must fail. */
  async runToExit(): Promise<number | null> {
    const child = this.spawnServe();
    this.child = child;
    collectLines(child.stdout!, this.stdout);
    collectLines(child.stderr!, this.stderr);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error('sidecar not running');
    return this.child.pid;
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  async stop(): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    const code = await this.waitForExit();
    clearTimeout(timer);
    return code;
  }

  output(): string {
    return [...this.stdout, ...this.stderr].join('\n');
  }

  /** Parsed JSON log lines. */
  logs(): Record<string, unknown>[] {
    return this.stdout.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Whether the access log has a successful request line for exactly this path. */
  loggedRequest(path: string, status = 200): boolean {
    return this.logs().some(
      (l) => l.msg === 'extension request' && l.path === path && l.status === status,
    );
  }

  /** Waits until a log line satisfies `predicate`. */
  /**
   * A full garbage collection in the process, then its heap in use and RSS. Needs
   * `nodeArgs: GC_ON_SIGNAL`.
   */
  async collectGarbage(timeoutMs = 10_000): Promise<{ heapUsedBytes: number; rssBytes: number }> {
    const marker = 'gc-on-signal ';
    const seen = this.stderr.filter((l) => l.startsWith(marker)).length;
    this.signal('SIGUSR2');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const lines = this.stderr.filter((l) => l.startsWith(marker));
      if (lines.length > seen) {
        return JSON.parse(lines[lines.length - 1].slice(marker.length)) as {
          heapUsedBytes: number;
          rssBytes: number;
        };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(
      `no garbage collection report within ${timeoutMs} ms (started with GC_ON_SIGNAL?)`,
    );
  }

  async waitForLog(
    predicate: (entry: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.logs().find(predicate);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no matching log line within ${timeoutMs} ms:\n${this.output()}`);
  }
}

function collectLines(
  stream: NodeJS.ReadableStream,
  into: string[],
  onLine?: (line: string) => void,
): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      into.push(line);
      onLine?.(line);
    }
  });
}
