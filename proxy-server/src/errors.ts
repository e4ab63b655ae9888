/**
 * Error classes for every stage of the request pipeline. Each stage throws one of these;
 * `toErrorResponse` (the only place that maps errors to statuses) turns it into the JSON
 * body the client sees. Messages are short and safe to show: they never contain tokens,
 * secrets or backend internals. The `cause` is for logs only.
 */
export abstract class ProxyError extends Error {
  abstract readonly status: number;
  /** Extra, client-safe fields merged into the JSON error body. */
  readonly details: Record<string, string>;
  /** Extra response headers (Retry-After on 429 and 503). */
  readonly headers: Record<string, string>;

  constructor(
    message: string,
    options?: {
      cause?: unknown;
      details?: Record<string, string>;
      headers?: Record<string, string>;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options?.details ?? {};
    this.headers = options?.headers ?? {};
  }
}

/** The request itself is malformed (bad path, bad Argocd-* header). */
export class InputError extends ProxyError {
  readonly status = 400;
}

/**
 * Why a session was not accepted, the `reason` label of `auth_failures_total`: no token at
 * all, a token past its `exp`, or anything else (malformed, forged, unknown issuer, rejected
 * by Argo CD).
 */
export type AuthenticationFailureReason = 'missing' | 'expired' | 'invalid';

/** No valid session: missing, expired or forged token. */
export class AuthenticationError extends ProxyError {
  readonly status = 401;
  /** Set where the error is thrown; metrics read it, never the message. Default: `'invalid'`. */
  readonly reason: AuthenticationFailureReason;

  constructor(
    message: string,
    options?: ConstructorParameters<typeof ProxyError>[1] & {
      reason?: AuthenticationFailureReason;
    },
  ) {
    super(message, options);
    this.reason = options?.reason ?? 'invalid';
  }
}

/** The caller is authenticated but not allowed. */
export class NotAllowedError extends ProxyError {
  readonly status = 403;
}

/** No such extension, or no backend for the application's destination. */
export class NotFoundError extends ProxyError {
  readonly status = 404;
}

/** The backend answered badly or refused/reset the connection. */
export class BadGatewayError extends ProxyError {
  readonly status = 502;
}

/** The request body is larger than the extension allows. */
export class PayloadTooLargeError extends ProxyError {
  readonly status = 413;
}

/** A rate limit of the extension was reached; `Retry-After` says when to come back. */
export class TooManyRequestsError extends ProxyError {
  readonly status = 429;
}

/** The request's headers are larger than the extension allows. */
export class HeadersTooLargeError extends ProxyError {
  readonly status = 431;
}

/** A dependency (Argo CD API, configuration) is not available right now. */
export class ServiceUnavailableError extends ProxyError {
  readonly status = 503;
}

/** The backend did not answer in time. */
export class GatewayTimeoutError extends ProxyError {
  readonly status = 504;
}

/** The JSON body of an error response. */
export interface ErrorBody {
  error: string;
  status: number;
  [key: string]: string | number;
}

/** Maps any thrown value to a status and a client-safe JSON body. */
export function toErrorResponse(err: unknown): ErrorBody {
  if (err instanceof ProxyError) {
    return { ...err.details, error: err.message, status: err.status };
  }
  // SECURITY: unknown errors may carry internals (paths, addresses); never echo them.
  return { error: 'internal error', status: 500 };
}

/** A readable one-line description of an error chain, for logs. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      const code = (current as NodeJS.ErrnoException).code;
      parts.push(code ? `${current.message} (${code})` : current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ');
}
