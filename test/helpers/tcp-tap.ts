import net, { AddressInfo } from 'net';

/**
 * A byte-level relay on an ephemeral loopback port: every connection is piped to `target`
 * unchanged, and the bytes sent toward the target are recorded, per connection. Put it
 * between the sidecar and a backend to assert exactly what the backend received, not what
 * it chose to log.
 */
export class TcpTap {
  url = '';
  /** The bytes sent toward the target on each connection, in the order they were accepted. */
  private readonly connections: Buffer[][] = [];
  /** Request heads in the order they were completed, over all connections. */
  private readonly heads: string[][] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => {
    const received: Buffer[] = [];
    this.connections.push(received);
    let pending = '';
    const upstream = net.connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      received.push(chunk);
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const part = pending.slice(0, end);
        pending = pending.slice(end + 4);
        if (/^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(part)) this.heads.push(part.split('\r\n'));
      }
    });
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
    return this.connections.map((c) => Buffer.concat(c).toString('latin1')).join('');
  }

  /**
   * The request heads sent to the target, in the order they arrived (over all connections,
   * never interleaved): [request line, ...header lines] each. Meant for requests without a
   * body (GET): a body is not skipped, and one holding a blank line would confuse it.
   */
  requestHeads(): string[][] {
    return [...this.heads];
  }

  /** Closes the listener and every relayed connection. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
