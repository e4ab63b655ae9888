import http from 'http';

/**
 * Makes a test server close connections instead of answering: `'reused'` every request but
 * the first on a kept-alive connection (what a client sees when the server closes an idle
 * connection just as it sends on it), `'all'` every request. `count` says how many it closed.
 */
export class ConnectionDropper {
  mode?: 'reused' | 'all';
  count = 0;
  private readonly answeredOn = new WeakSet<object>();

  /** True, with the connection destroyed, when `req` must go unanswered. */
  drops(req: http.IncomingMessage): boolean {
    if (this.mode === 'all' || (this.mode === 'reused' && this.answeredOn.has(req.socket))) {
      this.count++;
      req.socket.destroy();
      return true;
    }
    this.answeredOn.add(req.socket);
    return false;
  }

  reset(): void {
    this.mode = undefined;
    this.count = 0;
  }
}
