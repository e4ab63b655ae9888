import { BoundedCache } from '../../../../proxy-server/src/util/bounded-cache';
import type { SeriesPoint } from '../detector';
import { chunk } from '../service/plan-queries';
import type { MetricSource, QueryCounters, SeriesGroup } from './metric-source';

/**
 * Points per cached block. A missing closed block is fetched whole, so a request fetches
 * at most BLOCK_POINTS − 1 points more than it needs at each end of each history range: at
 * the extension's steps that is 1.06x (1h) to 1.4x (24h) of what the detector needs, and
 * it is what lets the next open, whose ranges have moved on by a minute, find its history
 * cached (docs/anomaly-api.md, "Caching").
 */
export const BLOCK_POINTS = 128;
/**
 * A point is final once it is this far in the past: Prometheus's default lookback (5 min)
 * plus room for late scrapes and rule evaluation. Later points are fetched on every request
 * and never cached.
 */
export const SETTLE_SECONDS = 600;
/**
 * Longest a cached block is trusted: data written later into the past (a backfill, a
 * remote-write backlog, a deleted series) shows within this time.
 */
export const BLOCK_TTL_MS = 6 * 3600 * 1000;
/** Default memory for cached points: 32 MiB, about 3.4 million points (1,280 bytes a block). */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/** What a block weighs for the byte budget: its values, and its key, object and map slot. */
export const BLOCK_BYTES = BLOCK_POINTS * 8 + 256;

export interface HistoryCacheOptions {
  /** Most bytes of cached points (0: cache nothing, only coalesce). Default 32 MiB. */
  maxBytes?: number;
  /** The clock, milliseconds since the epoch. */
  now?: () => number;
}

/** One block of a series: BLOCK_POINTS grid points, the first `final` of them known for good. */
interface Block {
  /** The value at each grid point; NaN where Prometheus had no data. */
  values: Float64Array;
  final: number;
}

/**
 * A {@link MetricSource} that keeps the points of range queries that can no longer change
 * (older than SETTLE_SECONDS) and asks the source only for the rest: for a tab opened again
 * a minute later, only the newest minute of each history range. Series are cut into blocks
 * of BLOCK_POINTS points on the query's own grid (`from` modulo `step` is part of the key,
 * so a grid anchored elsewhere never mixes with it), and the blocks are bounded in bytes
 * and evicted least recently used first. Identical queries in flight at once are sent once.
 *
 * Instant queries (`from === to`) and grouped queries pass through: the first are the
 * ownership check, whose look-back moves with every request, and the second serve
 * summaries whose workload sets rarely repeat.
 */
export class HistoryCache implements MetricSource {
  readonly kind: MetricSource['kind'];
  private readonly blocks: BoundedCache<Block>;
  private readonly inFlight = new Map<string, Promise<SeriesPoint[]>>();
  private readonly now: () => number;

  constructor(
    private readonly source: MetricSource,
    options: HistoryCacheOptions = {},
  ) {
    this.kind = source.kind;
    this.now = options.now ?? Date.now;
    const maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
    this.blocks = new BoundedCache<Block>(
      { maxEntries: Math.floor(maxBytes / BLOCK_BYTES), maxBytes },
      this.now,
    );
  }

  queryRangeGrouped(
    query: string,
    from: number,
    to: number,
    step: number,
    groups: readonly SeriesGroup[],
    counters?: QueryCounters,
  ): Promise<SeriesPoint[][]> {
    return this.source.queryRangeGrouped(query, from, to, step, groups, counters);
  }

  async queryRange(
    query: string,
    from: number,
    to: number,
    step: number,
    counters?: QueryCounters,
  ): Promise<SeriesPoint[]> {
    if (!(to > from) || !Number.isInteger(from) || !Number.isInteger(step) || step <= 0) {
      return this.fetch(query, from, to, step, counters);
    }
    const phase = from % step;
    const series = `${step}|${phase}|${query}`;
    const index = (t: number) => Math.round((t - phase) / step);
    const first = index(from);
    const last = index(from + Math.floor((to - from) / step) * step);
    // Grid points at or before this index are final.
    const settled = Math.floor((this.now() / 1000 - SETTLE_SECONDS - phase) / step);

    // What to fetch: per block, from its first unknown point to the end of what is needed,
    // or further to the end of the block's settled part (the rest of a closed block, for
    // the next request). Adjacent pieces become one query.
    const wanted: [number, number][] = [];
    const held = new Map<number, Block>();
    const firstBlock = Math.floor(first / BLOCK_POINTS);
    const lastBlock = Math.floor(last / BLOCK_POINTS);
    for (let b = firstBlock; b <= lastBlock; b++) {
      const start = b * BLOCK_POINTS;
      const need = Math.min(last, start + BLOCK_POINTS - 1);
      const block = this.blocks.get(`${b}|${series}`);
      const known = block?.final ?? 0;
      // Held here: storing what is fetched below may evict it.
      if (block) held.set(b, { values: block.values, final: known });
      if (start + known > need) continue;
      const until = Math.max(need, Math.min(start + BLOCK_POINTS - 1, settled));
      const from = known === 0 && b === firstBlock && first > settled ? first : start + known;
      const previous = wanted[wanted.length - 1];
      if (previous && previous[1] + 1 >= from) previous[1] = Math.max(previous[1], until);
      else wanted.push([from, until]);
    }
    // Prometheus answers at most MAX_POINTS points per query.
    const pieces = wanted.flatMap(([a, z]) => chunk(a, z));
    const answers = await Promise.all(
      pieces.map(([a, z]) => this.fetch(query, phase + a * step, phase + z * step, step, counters)),
    );
    for (const [i, [a, z]] of pieces.entries()) {
      this.store(series, a, z, settled, answers[i], index);
    }

    // The answer: fetched points where fetched, cached ones elsewhere.
    // A point without data is left out, as the source leaves it out (or answers null).
    const fetched = new Map<number, number | null>();
    for (const answer of answers) for (const [t, v] of answer) fetched.set(index(t), v);
    const points: SeriesPoint[] = [];
    let cached = 0;
    for (let g = first; g <= last; g++) {
      const t = phase + g * step;
      if (fetched.has(g)) {
        const value = fetched.get(g);
        if (value !== null && value !== undefined) points.push([t, value]);
        continue;
      }
      const block = held.get(Math.floor(g / BLOCK_POINTS));
      const offset = g - Math.floor(g / BLOCK_POINTS) * BLOCK_POINTS;
      if (block && offset < block.final) {
        cached++;
        const value = block.values[offset];
        if (!Number.isNaN(value)) points.push([t, value]);
      }
    }
    if (counters) counters.cachedPoints += cached;
    return points;
  }

  /**
   * Keeps the settled points of a fetched piece `[a, z]` (grid indices) in their blocks. A
   * block grows only from its known end, so a block never has a hole.
   */
  private store(
    series: string,
    a: number,
    z: number,
    settled: number,
    answer: readonly SeriesPoint[],
    index: (t: number) => number,
  ): void {
    const end = Math.min(z, settled);
    if (end < a) return;
    const values = new Map<number, number>();
    for (const [t, v] of answer) if (v !== null) values.set(index(t), v);
    for (let b = Math.floor(a / BLOCK_POINTS); b * BLOCK_POINTS <= end; b++) {
      const start = b * BLOCK_POINTS;
      const key = `${b}|${series}`;
      let block = this.blocks.get(key);
      const known = block?.final ?? 0;
      // Only a piece that continues the block's known part (or starts it) is kept.
      if (start + known < a || start + known > end) continue;
      if (!block) {
        block = { values: new Float64Array(BLOCK_POINTS).fill(NaN), final: 0 };
        this.blocks.set(key, block, this.now() + BLOCK_TTL_MS, BLOCK_BYTES);
      }
      const stop = Math.min(end, start + BLOCK_POINTS - 1);
      for (let g = start + known; g <= stop; g++) block.values[g - start] = values.get(g) ?? NaN;
      block.final = stop - start + 1;
    }
  }

  /**
   * One range query to the source; an identical one in flight is shared, not sent again
   * (and counted only for the request that sent it).
   */
  private fetch(
    query: string,
    from: number,
    to: number,
    step: number,
    counters?: QueryCounters,
  ): Promise<SeriesPoint[]> {
    const key = `${from}|${to}|${step}|${query}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.source.queryRange(query, from, to, step, counters);
      this.inFlight.set(key, pending);
      const forget = () => this.inFlight.delete(key);
      pending.then(forget, forget);
    }
    return pending;
  }
}
