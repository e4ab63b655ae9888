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
  queryRange(
    query: string,
    from: number,
    to: number,
    step: number,
    counters?: QueryCounters,
  ): Promise<SeriesPoint[]>;
  /**
   * Evaluates `query`, whose result series belong to the groups told apart by their labels
   * (`groups[i].labels`, every group with the same label names), over the same grid as
   * {@link queryRange}. Returns each group's points, in the order of `groups`, its series
   * summed as queryRange sums them; a group without a series gets none, and a series of no
   * group is ignored. `groups[i].query` is a query for that group's series alone.
   */
  queryRangeGrouped(
    query: string,
    from: number,
    to: number,
    step: number,
    groups: readonly SeriesGroup[],
    counters?: QueryCounters,
  ): Promise<SeriesPoint[][]>;
}

/**
 * What answering one request cost, added to by every query made for it (logged per request,
 * and read by `npm run bench`).
 */
export interface QueryCounters {
  /** Queries sent to Prometheus (or made of the sample generator). */
  queries: number;
  /** Points those queries answered with, over all their series. */
  points: number;
  /** Grid points answered from the history cache instead. */
  cachedPoints: number;
}

/** Counters that have counted nothing yet. */
export function newQueryCounters(): QueryCounters {
  return { queries: 0, points: 0, cachedPoints: 0 };
}

/** What analysing one resource needs of a source. */
export type RangeSource = Pick<MetricSource, 'kind' | 'queryRange'>;

/** One group of a {@link MetricSource.queryRangeGrouped} query. */
export interface SeriesGroup {
  labels: Readonly<Record<string, string>>;
  /** A query of this group's series alone (the sample source generates the series from it). */
  query: string;
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
