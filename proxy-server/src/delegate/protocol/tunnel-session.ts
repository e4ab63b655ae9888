import { OutgoingHttpHeaders } from 'http';
import { Duplex } from 'stream';
import {
  END_STREAM,
  Frame,
  frameHeader,
  FrameParser,
  FrameType,
  FramingError,
  u32Payload,
} from './framing';

/**
 * One multiplexed delegate tunnel over a socket: streams, per-stream flow control, RESET,
 * PING/PONG and GOAWAY as docs/delegates.md ("The tunnel protocol, version 2") specifies.
 * It keeps what the tunnel needs from HTTP/2 and leaves out what it does not (HPACK,
 * priorities, settings, push). The sidecar is the client (opens streams with odd ids), the
 * agent the server; a slow consumer holds its sender to one window (`handOn`, `consumed`).
 */
export const STREAM_WINDOW = 1024 * 1024;
/** A HEADERS frame larger than this resets its stream (like HTTP/2's header list limit). */
export const MAX_HEADERS_BYTES = 64 * 1024;
/** Streams a server accepts at once; beyond, new ones are reset (HTTP/2's max concurrent streams). */
export const MAX_CONCURRENT_STREAMS = 1000;
/** RESET codes. */
export const RESET_CANCEL = 1;
export const RESET_PROTOCOL_ERROR = 2;
export const RESET_FLOW_CONTROL_ERROR = 3;
export const RESET_REFUSED = 4;
/** DATA frames are cut to this size so one stream cannot hold the socket for long. */
const MAX_DATA_FRAME = 64 * 1024;

export type TunnelHeaders = Record<string, string | string[]>;

/** Where received bytes go: a response, a socket, a request-body stream. */
export interface DrainableWritable {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * Node's header object as a stream carries it (values as strings), leaving out the names
 * `skip` says no to.
 */
export function toTunnelHeaders(
  headers: OutgoingHttpHeaders,
  skip: (name: string) => boolean = () => false,
): TunnelHeaders {
  const out: TunnelHeaders = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || skip(name)) continue;
    out[name] = Array.isArray(value) ? value : String(value);
  }
  return out;
}

export interface StreamEvents {
  onHeaders?(headers: TunnelHeaders, end: boolean): void;
  onData?(chunk: Buffer, end: boolean): void;
  onReset?(code: number): void;
  /** Send credit came back after `write` returned false. */
  onDrain?(): void;
  /** The stream is over (both sides ended, or reset, or the session closed). */
  onClose?(): void;
}

/** A readable that writeFrom can pause and resume (a request, a socket, a response). */
export interface PausableSource {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

export class TunnelStream {
  events: StreamEvents = {};
  /** For the owner's bookkeeping (counts, sets), apart from `events`. */
  onClosed?: () => void;
  private sendWindow = STREAM_WINDOW;
  /** Bytes the peer may still send before it must wait for our WINDOW. */
  private receiveWindow = STREAM_WINDOW;
  private readonly queued: Array<{ chunk: Buffer; end: boolean }> = [];
  private unacknowledged = 0;
  /** Bytes handed on to a consumer that has not drained yet (see handOn). */
  private owed = 0;
  private localEnded = false;
  private remoteEnded = false;
  private closed = false;
  /** What writeFrom reads from, resumed when credit comes back. */
  private source?: PausableSource;

  constructor(
    readonly id: number,
    private readonly session: TunnelSession,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  sendHeaders(headers: TunnelHeaders, end = false): void {
    if (this.closed || this.localEnded) return;
    this.session.send(
      FrameType.HEADERS,
      end ? END_STREAM : 0,
      this.id,
      Buffer.from(JSON.stringify(headers)),
    );
    if (end) this.endLocal();
  }

  /** Queues body bytes; false once the window is used up (wait for `onDrain`). */
  write(chunk: Buffer, end = false): boolean {
    if (this.closed || this.localEnded) return false;
    this.queued.push({ chunk, end });
    if (end) this.localEnded = true;
    this.flush();
    return this.sendWindow > 0 && this.queued.length === 0;
  }

  end(): void {
    this.write(Buffer.alloc(0), true);
  }

  /**
   * Writes a Node readable into the stream: paused while the send window is used up,
   * resumed when credit comes back, ended at its end (then `onEnd`). What a source that
   * breaks off means (a reset, or nothing) stays with the caller.
   */
  writeFrom(source: PausableSource, onEnd?: () => void): void {
    this.source = source;
    source.on('data', (chunk: Buffer) => {
      if (!this.write(chunk)) source.pause();
    });
    source.once('end', () => {
      this.end();
      onEnd?.();
    });
  }

  /** Breaks the stream off: the peer sees a reset, never a clean end. */
  reset(code = RESET_CANCEL): void {
    if (this.closed) return;
    this.session.send(FrameType.RESET, 0, this.id, u32Payload(code));
    this.close();
  }

  /**
   * Hands a received chunk on to `dest`, granting the sender as much credit again once
   * `dest` has taken it: at once, or at its next 'drain' — so a slow consumer holds the
   * sender to one window.
   */
  handOn(chunk: Buffer, dest: DrainableWritable): void {
    if (chunk.length === 0) return;
    if (dest.write(chunk)) return this.consumed(chunk.length);
    if (this.owed === 0) {
      dest.once('drain', () => {
        this.consumed(this.owed);
        this.owed = 0;
      });
    }
    this.owed += chunk.length;
  }

  /** The receiving side has handed on `bytes`: grant the sender as much again. */
  consumed(bytes: number): void {
    if (this.closed || this.remoteEnded) return;
    this.unacknowledged += bytes;
    // Half a window at a time: few WINDOW frames, and the sender never stalls on a full one.
    if (this.unacknowledged >= STREAM_WINDOW / 2) {
      this.session.send(FrameType.WINDOW, 0, this.id, u32Payload(this.unacknowledged));
      this.receiveWindow += this.unacknowledged;
      this.unacknowledged = 0;
    }
  }

  /** @internal */
  receive(frame: Frame): void {
    if (this.closed) return;
    const end = (frame.flags & END_STREAM) !== 0;
    switch (frame.type) {
      case FrameType.HEADERS: {
        const headers = parseHeaders(frame.payload);
        if (!headers) {
          this.events.onReset?.(RESET_PROTOCOL_ERROR);
          this.reset(RESET_PROTOCOL_ERROR);
          return;
        }
        this.events.onHeaders?.(headers, end);
        break;
      }
      case FrameType.DATA:
        // SECURITY: a peer sending beyond the credit it was given would make us buffer
        // without bound: the stream is broken off instead.
        this.receiveWindow -= frame.payload.length;
        if (this.receiveWindow < 0) {
          this.events.onReset?.(RESET_FLOW_CONTROL_ERROR);
          this.reset(RESET_FLOW_CONTROL_ERROR);
          return;
        }
        this.events.onData?.(frame.payload, end);
        break;
      case FrameType.RESET:
        this.events.onReset?.(frame.payload.length >= 4 ? frame.payload.readUInt32BE(0) : 0);
        this.close();
        return;
      case FrameType.WINDOW:
        this.sendWindow += frame.payload.readUInt32BE(0);
        this.flush();
        if (this.queued.length === 0 && this.sendWindow > 0) {
          this.source?.resume();
          this.events.onDrain?.();
        }
        return;
      default:
        return;
    }
    if (end) {
      this.remoteEnded = true;
      if (this.localEnded && this.queued.length === 0) this.close();
    }
  }

  /** @internal The opening HEADERS said END_STREAM. */
  remoteEnd(): void {
    this.remoteEnded = true;
  }

  /** @internal The session ended under the stream. */
  abort(): void {
    if (this.closed) return;
    this.events.onReset?.(0);
    this.close();
  }

  private flush(): void {
    while (this.queued.length > 0 && !this.closed) {
      const head = this.queued[0];
      if (head.chunk.length > 0 && this.sendWindow <= 0) return;
      const size = Math.min(head.chunk.length, this.sendWindow, MAX_DATA_FRAME);
      const last = size === head.chunk.length;
      const piece = last ? head.chunk : head.chunk.subarray(0, size);
      this.session.send(FrameType.DATA, last && head.end ? END_STREAM : 0, this.id, piece);
      this.sendWindow -= size;
      if (last) this.queued.shift();
      else head.chunk = head.chunk.subarray(size);
    }
    if (this.localEnded && this.queued.length === 0) this.endLocal();
  }

  private endLocal(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued.length = 0;
    this.session.forget(this.id);
    this.events.onClose?.();
    this.onClosed?.();
  }
}

export interface TunnelSessionOptions {
  role: 'client' | 'server';
  /** Server side: a stream the peer opened, with its request headers (set `events` now). */
  onStream?: (stream: TunnelStream, headers: TunnelHeaders, end: boolean) => void;
  /** The session is over (socket closed, protocol error, or destroy()). */
  onClose?: (err?: Error) => void;
}

export class TunnelSession {
  private readonly streams = new Map<number, TunnelStream>();
  private readonly parser: FrameParser;
  private nextId: number;
  private corked = false;
  private goingAway = false;
  private closing = false;
  private closed = false;
  private readonly pings = new Map<string, () => void>();

  constructor(
    private readonly socket: Duplex,
    private readonly options: TunnelSessionOptions,
  ) {
    this.nextId = options.role === 'client' ? 1 : 2;
    this.parser = new FrameParser((frame) => this.receive(frame));
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.once('close', () => this.destroy());
    socket.on('error', (err) => this.destroy(err));
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Client side: a new stream, or undefined once the session is closed or going away. */
  open(): TunnelStream | undefined {
    if (this.closed || this.goingAway || this.options.role !== 'client') return undefined;
    const stream = new TunnelStream(this.nextId, this);
    this.nextId += 2;
    this.streams.set(stream.id, stream);
    return stream;
  }

  /** Calls back when the peer answers (the caller decides how long to wait). */
  ping(onPong: () => void): void {
    const data = Buffer.allocUnsafe(8);
    data.writeDoubleBE(Math.random(), 0);
    this.pings.set(data.toString('hex'), onPong);
    this.send(FrameType.PING, 0, 0, data);
  }

  /** No new streams; the ones in flight finish. */
  goAway(): void {
    if (this.goingAway) return;
    this.goingAway = true;
    this.send(FrameType.GOAWAY, 0, 0, u32Payload(this.nextId));
  }

  get isGoingAway(): boolean {
    return this.goingAway;
  }

  /** GOAWAY, then the session closes once its streams have finished. */
  close(): void {
    this.goAway();
    this.closing = true;
    if (this.streams.size === 0) this.destroy();
  }

  destroy(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.abort();
    this.socket.destroy();
    this.options.onClose?.(err);
  }

  /** @internal */
  send(type: FrameType, flags: number, stream: number, payload: Buffer): void {
    if (this.closed) return;
    // Frames written before the next process.nextTick leave in one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frameHeader(type, flags, stream, payload.length));
    if (payload.length > 0) this.socket.write(payload);
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
    if (this.closing && this.streams.size === 0) process.nextTick(() => this.destroy());
  }

  private receive(frame: Frame): void {
    if (frame.stream === 0) return this.receiveConnectionFrame(frame);
    let stream = this.streams.get(frame.stream);
    if (!stream) {
      // Only the client opens streams, with odd ids, by sending HEADERS first.
      const opensStream =
        this.options.role === 'server' &&
        frame.type === FrameType.HEADERS &&
        frame.stream % 2 === 1 &&
        !this.goingAway &&
        this.streams.size < MAX_CONCURRENT_STREAMS;
      if (!opensStream) {
        if (frame.type !== FrameType.RESET && frame.type !== FrameType.WINDOW) {
          this.send(FrameType.RESET, 0, frame.stream, u32Payload(RESET_REFUSED));
        }
        return;
      }
      stream = new TunnelStream(frame.stream, this);
      this.streams.set(frame.stream, stream);
      const end = (frame.flags & END_STREAM) !== 0;
      const headers = parseHeaders(frame.payload);
      if (!headers) return stream.reset(RESET_PROTOCOL_ERROR);
      if (end) stream.remoteEnd();
      this.options.onStream?.(stream, headers, end);
      return;
    }
    stream.receive(frame);
  }

  private receiveConnectionFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.PING:
        this.send(FrameType.PONG, 0, 0, Buffer.from(frame.payload));
        return;
      case FrameType.PONG: {
        const key = frame.payload.toString('hex');
        const done = this.pings.get(key);
        this.pings.delete(key);
        done?.();
        return;
      }
      case FrameType.GOAWAY:
        this.goingAway = true;
        return;
      default:
        this.destroy(new FramingError(`frame type ${frame.type} on stream 0`));
    }
  }
}

/** A HEADERS payload: a JSON object of strings or string lists, within the size limit. */
function parseHeaders(payload: Buffer): TunnelHeaders | undefined {
  if (payload.length > MAX_HEADERS_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (const v of Object.values(value as Record<string, unknown>)) {
    const ok =
      typeof v === 'string' || (Array.isArray(v) && v.every((item) => typeof item === 'string'));
    if (!ok) return undefined;
  }
  return value as TunnelHeaders;
}
