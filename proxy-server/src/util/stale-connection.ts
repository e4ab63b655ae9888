/**
 * GETs over kept-alive connections, sent again when they met a connection the server had
 * closed while it sat idle. A server closes idle connections on its own clock (Node's after
 * 5 s, Go's after its IdleTimeout); a request written on such a connection just as the
 * server closes it dies with a reset or a hang-up before any response, having never been
 * read. A GET may then be sent again. Node's http client does not do this by itself (see
 * `ClientRequest.reusedSocket` in Node's docs), so the Argo CD application lookup and the
 * OIDC discovery and key fetches use these two helpers.
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
