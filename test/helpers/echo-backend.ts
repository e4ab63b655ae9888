import { createHash } from 'crypto';
import http from 'http';
import https from 'https';
import { AddressInfo } from 'net';

/** What the backend saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  bodyBytes: number;
  bodySha256: string;
  /** Set when the proxy closed the request before the backend answered. */
  abortedByPeer: boolean;
}

/**
 * A real backend on an ephemeral loopback port. By path:
 * - anything else: 200 with JSON of what it saw (method, url, headers, body size and hash);
 * - `/hang`: never answers (records when the proxy gives up on it);
 * - `/slow?ms=N`: answers after N ms;
 * - `/download?bytes=N`: streams N bytes in 64 KiB chunks;
 * - `/events?count=N&everyMs=M`: server-sent events, one every M ms;
 * - `/reset`: destroys the connection without answering;
 * - `/cookie`: answers with Set-Cookie and a hop-by-hop header.
 */
export class EchoBackend {
  readonly seen: SeenRequest[] = [];
  private server?: http.Server;

  constructor(private readonly tlsOptions?: https.ServerOptions) {}

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.tlsOptions ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = this.tlsOptions
      ? https.createServer(this.tlsOptions, handler)
      : http.createServer(handler);
    await listenOn(this.server, port);
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** The last request seen, waiting briefly for it to arrive. */
  async last(): Promise<SeenRequest> {
    for (let i = 0; i < 100 && this.seen.length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    const req = this.seen[this.seen.length - 1];
    if (!req) throw new Error('backend saw no request');
    return req;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const hash = createHash('sha256');
    const record: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyBytes: 0,
      bodySha256: '',
      abortedByPeer: false,
    };
    this.seen.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.abortedByPeer = true;
    });
    const path = (req.url ?? '').split('?')[0];
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    if (path.endsWith('/reset')) {
      req.socket.destroy();
      return;
    }
    req.on('data', (chunk: Buffer) => {
      record.bodyBytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      record.bodySha256 = hash.digest('hex');
      if (path.endsWith('/hang')) return;
      if (path.endsWith('/slow')) {
        setTimeout(() => this.echo(record, res), Number(query.get('ms') ?? 1000));
        return;
      }
      if (path.endsWith('/events')) {
        this.events(res, Number(query.get('count') ?? 3), Number(query.get('everyMs') ?? 200));
        return;
      }
      if (path.endsWith('/download')) {
        this.download(res, Number(query.get('bytes') ?? 0));
        return;
      }
      if (path.endsWith('/cookie')) {
        res.setHeader('set-cookie', 'argocd.token=evil; Path=/');
        res.setHeader('x-backend', 'yes');
        res.setHeader('keep-alive', 'timeout=5');
      }
      this.echo(record, res);
    });
  }

  private echo(record: SeenRequest, res: http.ServerResponse): void {
    const body = JSON.stringify(record);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  /** Server-sent events: `count` events, one every `everyMs`, then the end. */
  private events(res: http.ServerResponse, count: number, everyMs: number): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`data: event ${++sent}\n\n`);
      if (sent >= count) {
        clearInterval(timer);
        res.end();
      }
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  }

  private download(res: http.ServerResponse, bytes: number): void {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let left = bytes;
    const pump = (): void => {
      while (left > 0) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!res.write(part)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  }
}

/** Listens on 127.0.0.1:port (0 = ephemeral); rejects with a clear error if it is taken. */
export function listenOn(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`)),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
}
