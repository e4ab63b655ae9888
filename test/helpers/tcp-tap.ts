import net, { AddressInfo } from 'net';

/**
 * A byte-level relay on an ephemeral loopback port: every connection is piped to `target`
 * unchanged, and the bytes sent toward the target are recorded. Put it between the sidecar
 * and a backend to assert exactly what the backend received, not what it chose to log.
 */
export class TcpTap {
  url = '';
  private readonly received: Buffer[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => {
    const upstream = net.connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => this.received.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
  });

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Everything the target has been sent so far, as Latin-1 (header bytes as they were). */
  bytes(): string {
    return Buffer.concat(this.received).toString('latin1');
  }

  /** The request heads sent to the target: [request line, ...header lines] each. */
  requestHeads(): string[][] {
    return this.bytes()
      .split(/\r\n\r\n/)
      .filter((part) => /^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(part))
      .map((head) => head.split('\r\n'));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
