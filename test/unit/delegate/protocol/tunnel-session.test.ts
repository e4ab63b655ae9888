import net, { AddressInfo, Socket } from 'net';
import { Readable } from 'stream';
import { FrameType } from '../../../../proxy-server/src/delegate/protocol/framing';
import {
  RESET_FLOW_CONTROL_ERROR,
  STREAM_WINDOW,
  TunnelHeaders,
  TunnelSession,
  TunnelStream,
} from '../../../../proxy-server/src/delegate/protocol/tunnel-session';

/** Two connected loopback sockets. */
async function socketPair(): Promise<[Socket, Socket, () => void]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  return [client, await accepted, () => server.close()];
}

const until = async (check: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('TunnelSession', () => {
  let client: TunnelSession;
  let server: TunnelSession;
  let serverStreams: Array<{ stream: TunnelStream; headers: TunnelHeaders; end: boolean }>;
  let cleanup: () => void;
  let serverClosed: Error | undefined | 'open';

  beforeEach(async () => {
    const [a, b, close] = await socketPair();
    cleanup = close;
    serverStreams = [];
    serverClosed = 'open';
    client = new TunnelSession(a, { role: 'client' });
    server = new TunnelSession(b, {
      role: 'server',
      onStream: (stream, headers, end) => serverStreams.push({ stream, headers, end }),
      onClose: (err) => (serverClosed = err),
    });
  });

  afterEach(() => {
    client.destroy();
    server.destroy();
    cleanup();
  });

  it('carries a request and its response, then forgets both streams', async () => {
    const got: { headers?: TunnelHeaders; body: Buffer[]; ended: boolean } = {
      body: [],
      ended: false,
    };
    const stream = client.open()!;
    stream.events = {
      onHeaders: (h) => (got.headers = h),
      onData: (c, end) => {
        got.body.push(Buffer.from(c));
        got.ended = end;
      },
    };
    stream.sendHeaders({ ':method': 'GET', ':path': '/x', 'x-a': ['1', '2'] }, true);
    await until(() => serverStreams.length === 1);
    const { stream: s, headers: requestHeaders, end: requestEnded } = serverStreams[0];
    expect(requestHeaders).toEqual({ ':method': 'GET', ':path': '/x', 'x-a': ['1', '2'] });
    expect(requestEnded).toBe(true);
    s.sendHeaders({ ':status': '200' });
    s.write(Buffer.from('hello '));
    s.write(Buffer.from('world'), true);
    await until(() => got.ended);
    expect(got.headers).toEqual({ ':status': '200' });
    expect(Buffer.concat(got.body).toString()).toBe('hello world');
    expect(stream.isClosed && s.isClosed).toBe(true);
    expect(client.activeStreams + server.activeStreams).toBe(0);
  });

  /** A GET whose response the client counts without consuming it; both ends of the stream. */
  async function openCountingStream() {
    const stream = client.open()!;
    const seen = { received: 0, ended: false };
    stream.events = {
      onData: (c, end) => {
        seen.received += c.length;
        seen.ended = end;
      },
    };
    stream.sendHeaders({ ':method': 'GET' }, true);
    await until(() => serverStreams.length === 1);
    return { stream, s: serverStreams[0].stream, seen };
  }

  /**
   * Three windows sent: one arrives, nothing more until the receiver grants credit
   * (`whileHeld` checks the sender then), the rest after it does.
   */
  async function receiveThreeWindowsOnCredit(
    stream: TunnelStream,
    seen: { received: number; ended: boolean },
    whileHeld: () => void = () => undefined,
  ) {
    await until(() => seen.received === STREAM_WINDOW);
    // The answer to a ping comes back behind every frame the sender wrote before it.
    await new Promise<void>((resolve) => client.ping(resolve));
    expect(seen.received).toBe(STREAM_WINDOW); // no more without credit
    whileHeld();
    stream.consumed(STREAM_WINDOW);
    await until(() => seen.received === 2 * STREAM_WINDOW);
    stream.consumed(2 * STREAM_WINDOW);
    await until(() => seen.ended);
    expect(seen.received).toBe(3 * STREAM_WINDOW);
  }

  it('holds a sender to one window until the receiver consumes', async () => {
    const { stream, s, seen } = await openCountingStream();
    let drained = 0;
    s.events = { onDrain: () => drained++ };
    expect(s.write(Buffer.alloc(3 * STREAM_WINDOW, 1), true)).toBe(false);
    await receiveThreeWindowsOnCredit(stream, seen);
    expect(drained).toBe(1); // at the second grant, which empties its queue
  });

  it('writes a readable in (writeFrom): paused at a full window, resumed at credit, ended at its end', async () => {
    const { stream, s, seen } = await openCountingStream();
    const total = 3 * STREAM_WINDOW;
    const chunk = Buffer.alloc(64 * 1024, 2);
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    let sourceEnded = false;
    s.writeFrom(source, () => (sourceEnded = true));
    await receiveThreeWindowsOnCredit(stream, seen, () => {
      expect(source.isPaused()).toBe(true);
      expect(produced).toBeLessThan(2 * STREAM_WINDOW); // the source is not read ahead
    });
    expect(sourceEnded).toBe(true);
  });

  it('delivers a reset, never a clean end', async () => {
    const stream = client.open()!;
    stream.sendHeaders({ ':method': 'POST' });
    stream.write(Buffer.from('partial'));
    await until(() => serverStreams.length === 1);
    const s = serverStreams[0].stream;
    let reset: number | undefined;
    let ended = false;
    s.events = { onReset: (code) => (reset = code), onData: (_c, end) => (ended ||= end) };
    stream.reset(8);
    await until(() => reset !== undefined);
    expect(reset).toBe(8);
    expect(ended).toBe(false);
    expect(s.isClosed).toBe(true);
  });

  it('answers pings', async () => {
    let pong = false;
    client.ping(() => (pong = true));
    await until(() => pong);
  });

  it('closes on garbage, and every stream in flight sees a reset', async () => {
    const stream = client.open()!;
    stream.sendHeaders({ ':method': 'GET' }, true);
    await until(() => serverStreams.length === 1);
    let aborted = false;
    stream.events = { onReset: () => (aborted = true) };
    (client as unknown as { socket: Socket }).socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await until(() => serverClosed !== 'open');
    expect(String(serverClosed)).toMatch(/unknown frame type/);
    await until(() => aborted);
    expect(client.isClosed).toBe(true);
  });

  it('resets a stream whose peer sends beyond the credit it was given', async () => {
    const stream = client.open()!;
    let reset: number | undefined;
    let received = 0;
    stream.events = { onReset: (code) => (reset = code), onData: (c) => (received += c.length) };
    stream.sendHeaders({ ':method': 'GET' }, true);
    await until(() => serverStreams.length === 1);
    // A hostile peer: raw DATA frames past the window, ignoring flow control.
    const send = (server as unknown as { send: TunnelSession['send'] }).send.bind(server);
    send(FrameType.DATA, 0, stream.id, Buffer.alloc(STREAM_WINDOW));
    send(FrameType.DATA, 0, stream.id, Buffer.alloc(1));
    await until(() => reset !== undefined);
    expect(reset).toBe(RESET_FLOW_CONTROL_ERROR);
    expect(received).toBe(STREAM_WINDOW);
    expect(stream.isClosed).toBe(true);
  });

  it('refuses new streams after GOAWAY', async () => {
    server.goAway();
    // The server answers this ping after its GOAWAY: the client has read the GOAWAY.
    await new Promise<void>((resolve) => client.ping(resolve));
    expect(client.open()).toBeUndefined();
  });
});
