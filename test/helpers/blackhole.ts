import { ChildProcess, spawn } from 'child_process';
import net from 'net';

/**
 * A loopback port where TCP connects hang: a listening socket that never accepts, with its
 * backlog filled, so the kernel drops further SYNs. Node always accepts, so a tiny Python
 * process holds the socket.
 */
export class Blackhole {
  port = 0;
  private child?: ChildProcess;
  private fillers: net.Socket[] = [];

  async start(): Promise<number> {
    const script =
      'import socket,sys,time\n' +
      's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)\n' +
      'print(s.getsockname()[1]); sys.stdout.flush()\n' +
      'time.sleep(600)\n';
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('error', reject);
    });
    // Fill the accept queue (backlog 0 admits one or two pending connections).
    for (let i = 0; i < 3; i++) {
      const socket = net.connect(this.port, '127.0.0.1');
      socket.on('error', () => undefined);
      this.fillers.push(socket);
    }
    await new Promise((r) => setTimeout(r, 200));
    return this.port;
  }

  stop(): void {
    for (const s of this.fillers) s.destroy();
    this.child?.kill('SIGKILL');
  }
}
