import { OutgoingHttpHeaders } from 'http';
import { PassThrough } from 'stream';
import { toTunnelHeaders, TunnelStream } from '../protocol/tunnel-session';

/**
 * The agent's view of one tunnel stream: the request body as a Readable (for undici or a
 * WebSocket), the response written back with credit-based backpressure.
 */
export class AgentStream {
  headersSent = false;
  destroyed = false;
  /** The request body, unless the request had none. */
  readonly body?: PassThrough;
  private readonly closeHandlers: Array<() => void> = [];
  private readonly drainHandlers: Array<() => void> = [];

  constructor(
    private readonly stream: TunnelStream,
    requestEnded: boolean,
  ) {
    if (!requestEnded) this.body = new PassThrough();
    stream.events = {
      onData: (chunk, end) => {
        const body = this.body;
        if (!body || body.destroyed) return;
        stream.handOn(chunk, body);
        if (end) body.end();
      },
      onReset: () => {
        this.destroyed = true;
        this.body?.destroy(new Error('cancelled by the sidecar'));
      },
      onDrain: () => {
        for (const handler of this.drainHandlers) handler();
      },
      onClose: () => {
        this.destroyed = true;
        for (const handler of this.closeHandlers) handler();
      },
    };
  }

  respond(headers: OutgoingHttpHeaders, end = false): void {
    this.headersSent = true;
    this.stream.sendHeaders(toTunnelHeaders(headers), end);
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  end(): void {
    this.stream.end();
  }

  /** Breaks the response off: the sidecar sees a reset, never a clean end. */
  abort(): void {
    this.destroyed = true;
    this.stream.reset();
  }

  onClose(handler: () => void): void {
    if (this.destroyed) handler();
    else this.closeHandlers.push(handler);
  }

  onDrain(handler: () => void): void {
    this.drainHandlers.push(handler);
  }

  /** Streams a Node readable into the response, with backpressure; a cut source resets. */
  pipeFrom(source: NodeJS.ReadableStream & { destroy?: () => void }): void {
    this.stream.writeFrom(source);
    source.once('error', () => this.abort());
    source.once('close', () => {
      if (!this.destroyed && !(source as { readableEnded?: boolean }).readableEnded) this.abort();
    });
  }
}
