/**
 * nginx as a reverse proxy, the reference contender of `npm run bench` (Debian's
 * `nginx-light`): one server per backend, keep-alive to the backend, no access log, as
 * many worker processes as cores (`worker_processes auto`, how nginx is usually run).
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { freePort, processTree } from '../../test/helpers/processes';

const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx'];

export function findNginx(): string | undefined {
  for (const path of NGINX_PATHS) {
    try {
      execFileSync(path, ['-v'], { stdio: 'ignore' });
      return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

export class NginxProxy {
  /** Listen port per backend port, in the order given. */
  readonly ports: number[] = [];
  private child?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));

  constructor(
    private readonly binary: string,
    private readonly backendPorts: number[],
  ) {}

  async start(): Promise<this> {
    const servers: string[] = [];
    for (const [i, backend] of this.backendPorts.entries()) {
      const port = await freePort();
      this.ports.push(port);
      servers.push(
        `upstream backend${i} { server 127.0.0.1:${backend}; keepalive 256; }\n` +
          `server {\n  listen 127.0.0.1:${port} backlog=4096;\n  location / {\n` +
          `    proxy_pass http://backend${i};\n    proxy_http_version 1.1;\n` +
          `    proxy_set_header Connection "";\n  }\n}`,
      );
    }
    const temp = (name: string) => join(this.dir, name);
    writeFileSync(
      temp('nginx.conf'),
      [
        'worker_processes auto;',
        'daemon off;',
        'master_process on;',
        `pid ${temp('nginx.pid')};`,
        `error_log ${temp('error.log')} warn;`,
        'events { worker_connections 4096; }',
        'http {',
        '  access_log off;',
        `  client_body_temp_path ${temp('body')};`,
        `  proxy_temp_path ${temp('proxy')};`,
        // Workers run as nobody when started as root: never spill responses to disk.
        '  proxy_max_temp_file_size 0;',
        ...servers,
        '}',
        '',
      ].join('\n'),
    );
    this.child = spawn(
      this.binary,
      ['-c', temp('nginx.conf'), '-p', this.dir, '-e', temp('error.log')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const stderr: string[] = [];
    this.child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    for (let i = 0; ; i++) {
      if (this.child.exitCode !== null) throw new Error(`nginx exited: ${stderr.join('')}`);
      const ok = await fetch(`http://127.0.0.1:${this.ports[0]}/`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 100) throw new Error(`nginx did not start: ${stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this;
  }

  /** Master and workers. */
  pids(): number[] {
    return this.child?.pid ? processTree(this.child.pid) : [];
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((r) => this.child!.once('exit', r));
      this.child.kill('SIGQUIT');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
