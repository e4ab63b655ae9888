import type { SeriesPoint } from '../../../../backends/anomaly-detection/src/detector';
import { analyzeResource } from '../../../../backends/anomaly-detection/src/service/analyze-resource';
import { DEFAULT_QUERIES } from '../../../../backends/anomaly-detection/src/sources/metric-queries';
import { SampleSource } from '../../../../backends/anomaly-detection/src/sources/sample-source';
import {
  BLOCK_BYTES,
  BLOCK_POINTS,
  BLOCK_TTL_MS,
  HistoryCache,
  SETTLE_SECONDS,
} from '../../../../backends/anomaly-detection/src/sources/history-cache';
import {
  type MetricSource,
  newQueryCounters,
  type QueryCounters,
  SourceUnavailableError,
} from '../../../../backends/anomaly-detection/src/sources/metric-source';

const STEP = 60;
/** The clock: 2026-12-07 12:00 UTC. */
const NOW = 1796644800;

/**
 * A source whose value at `t` is `t / 60 % 97`, with no data where `gap(t)`: like
 * Prometheus, it answers only the grid points that have data. Records every call.
 */
class RecordingSource implements MetricSource {
  readonly kind = 'prometheus';
  readonly calls: { query: string; from: number; to: number; step: number }[] = [];
  failNext = false;
  /** Resolves the calls when set: for calls in flight at once. */
  hold?: Promise<void>;

  constructor(private readonly gap: (t: number) => boolean = () => false) {}

  async queryRange(
    query: string,
    from: number,
    to: number,
    step: number,
    counters?: QueryCounters,
  ): Promise<SeriesPoint[]> {
    this.calls.push({ query, from, to, step });
    if (counters) counters.queries++;
    await this.hold;
    if (this.failNext) {
      this.failNext = false;
      throw new SourceUnavailableError('Prometheus unreachable: connect ECONNREFUSED');
    }
    const points = this.answer(from, to, step);
    if (counters) counters.points += points.length;
    return points;
  }

  answer(from: number, to: number, step: number): SeriesPoint[] {
    const points: SeriesPoint[] = [];
    for (let t = from; t <= to; t += step) if (!this.gap(t)) points.push([t, (t / 60) % 97]);
    return points;
  }

  async queryRangeGrouped(): Promise<SeriesPoint[][]> {
    throw new Error('not used');
  }

  /** Grid points asked for over every call so far. */
  get pointsAsked(): number {
    return this.calls.reduce((sum, c) => sum + (c.to - c.from) / c.step + 1, 0);
  }
}

function cacheOn(source: MetricSource, nowSeconds = NOW, maxBytes?: number) {
  const clock = { now: nowSeconds * 1000 };
  const cache = new HistoryCache(source, { now: () => clock.now, maxBytes });
  return { cache, clock };
}

describe('HistoryCache', () => {
  // A day of history ending three hours ago: every point of it is settled.
  const from = NOW - 27 * 3600;
  const to = NOW - 3 * 3600;

  it('answers exactly what the source answers, and a second time without asking it', async () => {
    const source = new RecordingSource((t) => t % 3600 === 0);
    const { cache } = cacheOn(source);
    const first = newQueryCounters();
    expect(await cache.queryRange('cpu', from, to, STEP, first)).toEqual(
      source.answer(from, to, STEP),
    );
    expect(first.queries).toBe(1);
    // Whole blocks are fetched: at most one block's worth more at each end.
    expect(source.pointsAsked).toBeLessThanOrEqual((to - from) / STEP + 1 + 2 * BLOCK_POINTS);
    expect(source.calls[0].from).toBeLessThanOrEqual(from);
    expect(source.calls[0].to).toBeGreaterThanOrEqual(to);

    const second = newQueryCounters();
    expect(await cache.queryRange('cpu', from, to, STEP, second)).toEqual(
      source.answer(from, to, STEP),
    );
    expect(second).toEqual({ queries: 0, points: 0, cachedPoints: (to - from) / STEP + 1 });
    expect(source.calls).toHaveLength(1);
  });

  it('asks only for what is new when the range has moved on', async () => {
    const source = new RecordingSource();
    const { cache } = cacheOn(source);
    await cache.queryRange('cpu', from, to, STEP);
    const fetchedTo = source.calls[0].to;
    // A minute later, and then past the end of what the first fetch rounded up to.
    await cache.queryRange('cpu', from + 60, to + 60, STEP);
    expect(source.calls).toHaveLength(to + 60 <= fetchedTo ? 1 : 2);
    const later = fetchedTo + 5 * STEP;
    expect(await cache.queryRange('cpu', from + 600, later, STEP)).toEqual(
      source.answer(from + 600, later, STEP),
    );
    const last = source.calls[source.calls.length - 1];
    expect(last.from).toBe(fetchedTo + STEP);
    expect(last.to).toBeGreaterThanOrEqual(later);
  });

  it('fetches the unsettled tail every time and keeps only what has settled', async () => {
    const source = new RecordingSource();
    const { cache, clock } = cacheOn(source);
    const end = NOW - (NOW % STEP);
    const start = end - 2 * 3600;
    expect(await cache.queryRange('cpu', start, end, STEP)).toEqual(
      source.answer(start, end, STEP),
    );
    // The last settled point: SETTLE_SECONDS before now.
    const settled = NOW - SETTLE_SECONDS;
    expect(await cache.queryRange('cpu', start, end, STEP)).toEqual(
      source.answer(start, end, STEP),
    );
    expect(source.calls[1]).toMatchObject({ from: settled + STEP, to: end });
    // Ten minutes later, the ten minutes that settled meanwhile are kept as well.
    clock.now += 600_000;
    await cache.queryRange('cpu', start, end + 600, STEP);
    expect(source.calls[2]).toMatchObject({ from: settled + STEP, to: end + 600 });
    await cache.queryRange('cpu', start, end + 600, STEP);
    expect(source.calls[3]).toMatchObject({ from: settled + 600 + STEP, to: end + 600 });
  });

  it('keeps grids anchored at different offsets apart', async () => {
    const source = new RecordingSource();
    const { cache } = cacheOn(source);
    await cache.queryRange('cpu', from, to, STEP);
    // The same series a second off the first grid: nothing cached applies.
    expect(await cache.queryRange('cpu', from + 1, to + 1, STEP)).toEqual(
      source.answer(from + 1, to + 1, STEP),
    );
    expect(source.calls).toHaveLength(2);
    expect(Number.isInteger((source.calls[1].from - from - 1) / STEP)).toBe(true);
    // Nor does another query or another step.
    await cache.queryRange('memory', from, to, STEP);
    await cache.queryRange('cpu', from, to, 2 * STEP);
    expect(source.calls).toHaveLength(4);
  });

  it('sends identical queries in flight at once only once', async () => {
    const source = new RecordingSource();
    const { cache } = cacheOn(source);
    let release!: () => void;
    source.hold = new Promise((resolve) => (release = resolve));
    const counters = [newQueryCounters(), newQueryCounters()];
    const answers = [0, 1].map((i) => cache.queryRange('cpu', from, to, STEP, counters[i]));
    release();
    const [a, b] = await Promise.all(answers);
    expect(a).toEqual(source.answer(from, to, STEP));
    expect(b).toEqual(a);
    expect(source.calls).toHaveLength(1);
    expect(counters.map((c) => c.queries)).toEqual([1, 0]);
  });

  it('keeps nothing of a failed query', async () => {
    const source = new RecordingSource();
    const { cache } = cacheOn(source);
    source.failNext = true;
    await expect(cache.queryRange('cpu', from, to, STEP)).rejects.toThrow(SourceUnavailableError);
    expect(await cache.queryRange('cpu', from, to, STEP)).toEqual(source.answer(from, to, STEP));
    expect(source.calls).toHaveLength(2);
  });

  it('stays within its memory and forgets blocks after BLOCK_TTL_MS', async () => {
    const source = new RecordingSource();
    // Room for about three blocks.
    const { cache } = cacheOn(source, NOW, 3 * BLOCK_BYTES);
    await cache.queryRange('cpu', from, to, STEP);
    expect(await cache.queryRange('cpu', from, to, STEP)).toEqual(source.answer(from, to, STEP));
    // Most of the day's blocks did not fit: they are fetched again, correctly.
    expect(source.calls).toHaveLength(2);

    const roomy = new RecordingSource();
    const { cache: big, clock: bigClock } = cacheOn(roomy);
    await big.queryRange('cpu', from, to, STEP);
    bigClock.now += BLOCK_TTL_MS + 1000;
    expect(await big.queryRange('cpu', from, to, STEP)).toEqual(roomy.answer(from, to, STEP));
    expect(roomy.calls).toHaveLength(2);
  });

  it('turns off with maxBytes 0, still answering correctly', async () => {
    const source = new RecordingSource();
    const { cache } = cacheOn(source, NOW, 0);
    await cache.queryRange('cpu', from, to, STEP);
    expect(await cache.queryRange('cpu', from, to, STEP)).toEqual(source.answer(from, to, STEP));
    expect(source.calls).toHaveLength(2);
  });

  it('passes instant queries through unchanged', async () => {
    const source = new RecordingSource();
    const { cache } = cacheOn(source);
    await cache.queryRange('check', to, to, STEP);
    await cache.queryRange('check', to, to, STEP);
    expect(source.calls).toEqual([
      { query: 'check', from: to, to, step: STEP },
      { query: 'check', from: to, to, step: STEP },
    ]);
  });
});

describe('HistoryCache under analyzeResource', () => {
  it('gives the same reports as the source alone, cold and warm, with only new points read', async () => {
    const resource = { group: 'apps', kind: 'Deployment' as const, namespace: 'shop', name: 'web' };
    const step = 90;
    // The clock is a minute past the range's end: the newest 10 minutes are not settled.
    const to = Math.floor(NOW / step) * step;
    const { cache, clock } = cacheOn(new SampleSource(), NOW + 60);
    for (const shift of [0, step, 2 * step]) {
      clock.now = (NOW + 60 + shift) * 1000;
      const request = { resource, from: to + shift - 6 * 3600, to: to + shift, step };
      const counters = newQueryCounters();
      const cached = await analyzeResource(request, cache, DEFAULT_QUERIES, counters);
      const direct = await analyzeResource(request, new SampleSource(), DEFAULT_QUERIES);
      expect(cached).toEqual(direct);
      if (shift > 0) {
        // Warm: the settled history comes from the cache; only the unsettled tail is read.
        expect(counters.cachedPoints).toBeGreaterThan(20 * counters.points);
        expect(counters.points).toBeLessThan(DEFAULT_QUERIES.Deployment.length * 20);
      }
    }
  });
});
