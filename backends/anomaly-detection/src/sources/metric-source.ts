import type { SeriesPoint } from '../detector';

/** Where the service reads metric series from. */
export interface MetricSource {
  /** Reported to the client as the response's `source`. */
  readonly kind: 'prometheus' | 'sample';
  /**
   * Evaluates `query` at `from`, `from + step`, … up to `to` (unix seconds). Returns the points
   * that have data, ascending; a timestamp without data is absent or `null`. Several result
   * series are summed. Throws a {@link SourceError} subclass when the answer cannot be trusted:
   * an unreachable or failing source must never look like "all normal".
   */
  queryRange(query: string, from: number, to: number, step: number): Promise<SeriesPoint[]>;
}

/** A metric source failed; `status` is the HTTP status the service answers with. */
export abstract class SourceError extends Error {
  abstract readonly status: 502 | 504;
}

/** The source could not be reached (connection refused, DNS, TLS, reset). */
export class SourceUnavailableError extends SourceError {
  override readonly name = 'SourceUnavailableError';
  readonly status = 502;
}

/** The source did not answer within the per-request timeout. */
export class SourceTimeoutError extends SourceError {
  override readonly name = 'SourceTimeoutError';
  readonly status = 504;
}

/** The source answered with an error or with something that is not a range-query result. */
export class SourceQueryError extends SourceError {
  override readonly name = 'SourceQueryError';
  readonly status = 502;
}
