import { execFileSync, spawn } from 'child_process';

/**
 * A private network for tests: a network namespace with its own loopback, joined to this
 * one by a veth pair whose two addresses (10.213.N.1 here, 10.213.N.2 inside) exist on
 * that pair only. A server bound to 127.0.0.1 inside the namespace is unreachable from
 * here: exactly a backend in a network the sidecar cannot see. Needs root (`ip netns`).
 */
export class PrivateNetwork {
  readonly name: string;
  readonly outsideAddress: string;
  readonly insideAddress: string;
  private readonly vethOut: string;
  private readonly vethIn: string;

  constructor() {
    const id = process.pid % 250;
    this.name = `eptest-${process.pid}`;
    this.vethOut = `ept${process.pid % 100000}a`;
    this.vethIn = `ept${process.pid % 100000}b`;
    this.outsideAddress = `10.213.${id}.1`;
    this.insideAddress = `10.213.${id}.2`;
  }

  /** Why these tests cannot run here, or undefined when they can. */
  static unavailableReason(): string | undefined {
    if (process.getuid?.() !== 0) return 'not root (ip netns needs root)';
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    } catch {
      return 'the ip command (iproute2) is missing or has no netns support';
    }
    return undefined;
  }

  create(): void {
    this.destroy();
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    ip('netns', 'add', this.name);
    ip('netns', 'exec', this.name, 'ip', 'link', 'set', 'lo', 'up');
    ip('link', 'add', this.vethOut, 'type', 'veth', 'peer', 'name', this.vethIn);
    ip('link', 'set', this.vethIn, 'netns', this.name);
    ip('addr', 'add', `${this.outsideAddress}/30`, 'dev', this.vethOut);
    ip('link', 'set', this.vethOut, 'up');
    ip(
      'netns',
      'exec',
      this.name,
      'ip',
      'addr',
      'add',
      `${this.insideAddress}/30`,
      'dev',
      this.vethIn,
    );
    ip('netns', 'exec', this.name, 'ip', 'link', 'set', this.vethIn, 'up');
  }

  destroy(): void {
    for (const args of [
      ['link', 'del', this.vethOut],
      ['netns', 'del', this.name],
    ]) {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }

  /** Starts `node script args` inside the namespace; resolves with the first stdout line. */
  startNode(
    script: string,
    args: string[] = [],
  ): Promise<{ firstLine: string; pid: number; kill: () => void }> {
    const child = spawn('ip', ['netns', 'exec', this.name, process.execPath, script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return new Promise((resolve, reject) => {
      let buffer = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        buffer += d;
        const nl = buffer.indexOf('\n');
        if (nl !== -1) {
          child.stdout.removeAllListeners('data');
          child.stdout.resume();
          resolve({
            firstLine: buffer.slice(0, nl),
            pid: child.pid!,
            kill: () => child.kill('SIGTERM'),
          });
        }
      });
      child.once('exit', (code) => reject(new Error(`${script} exited (${code}) in ${this.name}`)));
    });
  }
}
