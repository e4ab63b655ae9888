/**
 * GETs over kept-alive connections, sent again when they met a connection the server had
 * closed while it sat idle. A server closes idle connections on its own clock (Node's after
 * 5 s, Go's after its IdleTimeout); a request written on such a connection just as the
 * server closes it dies with a reset or a hang-up before any response, having never been
 * read. A GET may then be sent again. Node's http client does not do this by itself (see
 * `ClientRequest.reusedSocket` in Node's docs), so the Argo CD application lookup and the
 * OIDC discovery and key fetches use these two helpers.
 *
 * Why Node's http client here and not undici (the data path's): undici parses HTTP/1.1 with
 * llhttp compiled to WebAssembly, and the first request a process sends with it costs about
 * 20 MiB of resident memory (Node 20: +22.6 MiB RSS after 20 GETs, against +2.4 MiB with
 * `http`). A sidecar whose backends are all behind delegates never loads it otherwise, and
 * test/netns/delegate-netns.test.ts then measures 69-76 MiB of peak growth for 1 GiB
 * through a delegate, over its 64 MiB budget (46-60 MiB with `http`). undici would not spare
 * the retry either: it fails the request at the head of a connection closed under it
 * (client-h1 `onHttpSocketClose`), and its RetryHandler's own decision also resends on a
 * fresh connection, after 5xx answers and with a 500 ms backoff.
 */
import type { ClientRequest } from 'http';

/** A request lost on a kept-alive connection the server had closed (see the module). */
export class StaleConnectionError extends Error {
  constructor(readonly cause: Error) {
    super(cause.message);
  }
}

/**
 * Rejects with what an 'error' of `req` means: a StaleConnectionError when the request went
 * out on a reused connection, no response had started, and the connection was reset or hung
 * up; the error itself otherwise (timeouts, refused connections, errors of our own, a
 * response cut in the middle).
 */
export function rejectOnRequestError(req: ClientRequest, reject: (err: Error) => void): void {
  let responded = false;
  req.once('response', () => {
    responded = true;
  });
  req.on('error', (err: NodeJS.ErrnoException) => {
    const closedUnderUs = err.code === 'ECONNRESET' || err.code === 'EPIPE';
    reject(req.reusedSocket && !responded && closedUnderUs ? new StaleConnectionError(err) : err);
  });
}

/**
 * Runs `attempt` (one GET) and again, at most `retries` more times, while it fails with a
 * StaleConnectionError; each new attempt takes a fresh or another idle connection. The
 * original error is what a caller finally sees.
 */
export async function retryOnStaleConnection<T>(
  attempt: () => Promise<T>,
  retries = 2,
): Promise<T> {
  for (let tried = 0; ; tried++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof StaleConnectionError)) throw err;
      if (tried === retries) throw err.cause;
    }
  }
}
