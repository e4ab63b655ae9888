import type { Dispatcher } from 'undici';
import { AgentStream } from './agent-stream';
import { rawResponseHeaders } from './response-headers';

/**
 * Streams one backend response into the tunnel stream (undici's dispatch handler):
 * backpressure from the tunnel pauses the backend connection; a response cut short resets
 * the stream (never a clean end); the sidecar cancelling the stream aborts the request.
 */
export class StreamWriter implements Dispatcher.DispatchHandler {
  private abortUpstream?: (err: Error) => void;
  private status = 0;
  private done = false;

  constructor(
    private readonly stream: AgentStream,
    private readonly hooks: {
      onResponse: () => void;
      onDone: (status: number) => void;
      onError: (err: Error & { code?: string }) => void;
    },
  ) {
    stream.onClose(() => {
      if (!this.done) this.abortUpstream?.(new Error('cancelled by the sidecar'));
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.stream.destroyed) abort(new Error('cancelled by the sidecar'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.stream.destroyed) return false;
    this.status = statusCode;
    this.hooks.onResponse();
    this.stream.respond({ ':status': statusCode, ...rawResponseHeaders(rawHeaders) });
    this.stream.onDrain(resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  onComplete(): void {
    this.done = true;
    this.stream.end();
    this.hooks.onDone(this.status);
  }

  onError(err: Error): void {
    this.done = true;
    this.hooks.onError(err);
  }
}
