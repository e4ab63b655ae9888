import type { IncomingMessage, ServerResponse } from 'http';
import type { Dispatcher } from 'undici';
import { BadGatewayError, GatewayTimeoutError, ProxyError } from '../errors';
import { filterRawResponseHeaders } from './upstream-headers';

/**
 * Streams one backend response to the client (undici's dispatch handler). Response
 * headers are filtered like filterResponseHeaders (upstream-headers.ts); backpressure from
 * a slow client pauses the backend connection; a client that goes away aborts the backend
 * request.
 */
export class ResponseWriter implements Dispatcher.DispatchHandler {
  private abortUpstream?: (err: Error) => void;
  private responseTimer?: NodeJS.Timeout;
  /** Why we aborted the upstream request ourselves (a timeout), or the client left. */
  private reason?: ProxyError | 'client-gone';
  private done = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly responseTimeoutMs: number,
    private readonly outcome: {
      /** The backend answered with this status. */
      answered: (status: number) => void;
      /** No response: the client's error, and what undici reported. */
      failed: (err: ProxyError, cause: Error) => void;
    },
  ) {
    res.on('close', this.onClientClose);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    // The client may have left while the request waited for a connection.
    if (this.res.destroyed && !this.res.writableFinished) this.abort('client-gone');
  }

  /**
   * Like Go's ResponseHeaderTimeout: counted from the end of the request body, so a long
   * upload is not cut while the backend is still reading it.
   */
  onRequestSent(): void {
    if (this.done || this.reason) return;
    this.responseTimer = setTimeout(
      () => this.abort(new GatewayTimeoutError('backend did not respond in time')),
      this.responseTimeoutMs,
    );
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    clearTimeout(this.responseTimer);
    this.outcome.answered(statusCode);
    if (this.res.destroyed) return false;
    const headers = filterRawResponseHeaders(rawHeaders);
    this.res.writeHead(statusCode, statusText || undefined, headers);
    this.res.on('drain', resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onComplete(): void {
    this.done = true;
    this.res.end();
    // An unread request body (the backend answered early) must not hold the connection.
    if (!this.req.complete) this.req.resume();
  }

  onError(err: Error): void {
    this.done = true;
    clearTimeout(this.responseTimer);
    if (this.reason === 'client-gone') return;
    const failure =
      this.reason ??
      (err instanceof ProxyError
        ? err // a body limit
        : (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT'
          ? new GatewayTimeoutError('backend did not accept the connection in time', {
              cause: err,
            })
          : new BadGatewayError('backend is unreachable or failed', { cause: err }));
    // Mid-stream (headers already sent) the pipeline cuts the response instead.
    this.outcome.failed(failure, err);
  }

  private readonly onClientClose = (): void => {
    if (!this.res.writableFinished && !this.done) this.abort('client-gone');
  };

  private abort(reason: ProxyError | 'client-gone'): void {
    if (this.reason || this.done) return;
    this.reason = reason;
    clearTimeout(this.responseTimer);
    const err = reason === 'client-gone' ? new Error('client went away') : reason;
    this.abortUpstream?.(err);
  }
}
