import { SourceError } from '../sources/metric-source';

/** A bad query parameter; answered with 400 naming the parameter. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** No such path. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** Known path, wrong method. */
export class MethodNotAllowedError extends Error {
  override readonly name = 'MethodNotAllowedError';
}

/** What the client gets for an error: a status and a short JSON body. */
export interface ErrorResponse {
  status: number;
  body: { error: string; status: number; parameter?: string };
}

/**
 * The one place errors become HTTP statuses (docs/anomaly-api.md): 400 for bad parameters,
 * 502/504 when the metric source fails or is slow, 500 for anything unexpected (whose
 * message stays in the log, not in the response).
 */
export function toErrorResponse(err: unknown): ErrorResponse {
  const make = (status: number, error: string, parameter?: string): ErrorResponse => ({
    status,
    body: parameter === undefined ? { error, status } : { error, status, parameter },
  });
  if (err instanceof InputError) return make(400, err.message, err.parameter);
  if (err instanceof NotFoundError) return make(404, err.message);
  if (err instanceof MethodNotAllowedError) return make(405, err.message);
  if (err instanceof SourceError) return make(err.status, err.message);
  return make(500, 'internal error');
}
