import type { SeriesPoint } from '../detector';
import { Prng } from '../eval/prng';
import type { MetricSource, QueryCounters, SeriesGroup } from './metric-source';

const DAY = 86400;
const HOUR = 3600;
/**
 * Sample incidents recur this often: 5 h 50 min, so a six-hour range always shows at least
 * half of one. Not a divisor of a day: the detector compares each point with the same time
 * 1, 2, 3 days and 1, 2 weeks earlier (and the service fetches that history), and an
 * incident at the same time every day would be a daily pattern, not an incident. With this
 * period the incidents move 40 minutes earlier each day, and none of those lags
 * (2400, 4800, 7200, 16800, 12600 s modulo the period) lands on another incident.
 */
const INCIDENT_PERIOD_SECONDS = 5 * HOUR + 50 * 60;
/** Sample incidents start at this offset into each period (from the Unix epoch), the same for every metric. */
const INCIDENT_OFFSET_SECONDS = 4 * HOUR + 10 * 60;
/** Each sample incident lasts this long. */
const INCIDENT_SECONDS = 20 * 60;
/** Sample incidents multiply the value by this. */
const INCIDENT_FACTOR = 4;

/**
 * Generated demo data for running without Prometheus (`--sample`); the response says
 * `"source": "sample"` so the UI can label it. Deterministic: the value at a timestamp
 * depends only on the query text and the timestamp, so every request over the same range
 * sees the same series. The shape follows the evaluation set (src/eval/eval-set.ts): a
 * daily cycle, log-normal noise, and a 20-minute ×4 incident every 5 h 50 min (see
 * {@link sampleIncidents}) in the CPU series and about half of the others.
 */
export class SampleSource implements MetricSource {
  readonly kind = 'sample';

  async queryRange(
    query: string,
    from: number,
    to: number,
    step: number,
    counters?: QueryCounters,
  ): Promise<SeriesPoint[]> {
    const points = this.generate(query, from, to, step);
    if (counters) {
      counters.queries++;
      counters.points += points.length;
    }
    return points;
  }

  private generate(query: string, from: number, to: number, step: number): SeriesPoint[] {
    const seed = hashText(query);
    const level = levelFor(query, seed);
    const phase = (seed % 24) * HOUR;
    // The CPU query and about half of the others take part in the incidents, together.
    const affected = /cpu/.test(query) || seed % 2 === 0;
    const points: SeriesPoint[] = [];
    for (let t = from; t <= to; t += step) {
      const noise = new Prng(seed ^ Math.floor(t)).normal() * 0.05;
      const daily = 0.5 * Math.sin((2 * Math.PI * (t + phase)) / DAY);
      const incident = affected && inIncident(t) ? INCIDENT_FACTOR : 1;
      points.push([t, round(level * Math.exp(daily + noise) * incident)]);
    }
    return points;
  }

  /** Each group's own query's series, so the summary shows what each resource's tab shows. */
  async queryRangeGrouped(
    _query: string,
    from: number,
    to: number,
    step: number,
    groups: readonly SeriesGroup[],
    counters?: QueryCounters,
  ): Promise<SeriesPoint[][]> {
    const perGroup = groups.map((group) => this.generate(group.query, from, to, step));
    if (counters) {
      counters.queries++;
      for (const points of perGroup) counters.points += points.length;
    }
    return perGroup;
  }
}

/** The sample incidents `[start, end)` that overlap `[from, to]`, ascending. */
export function sampleIncidents(from: number, to: number): { start: number; end: number }[] {
  const incidents: { start: number; end: number }[] = [];
  const first = Math.floor((from - INCIDENT_OFFSET_SECONDS) / INCIDENT_PERIOD_SECONDS);
  for (let k = first; ; k++) {
    const start = INCIDENT_OFFSET_SECONDS + k * INCIDENT_PERIOD_SECONDS;
    if (start > to) break;
    if (start + INCIDENT_SECONDS > from) incidents.push({ start, end: start + INCIDENT_SECONDS });
  }
  return incidents;
}

function inIncident(t: number): boolean {
  const since =
    (((t - INCIDENT_OFFSET_SECONDS) % INCIDENT_PERIOD_SECONDS) + INCIDENT_PERIOD_SECONDS) %
    INCIDENT_PERIOD_SECONDS;
  return since < INCIDENT_SECONDS;
}

/** A plausible level for the metric the query reads (the sample source only sees PromQL). */
function levelFor(query: string, seed: number): number {
  const spread = 1 + (seed % 100) / 50;
  if (/memory/.test(query)) return 2e8 * spread;
  if (/cpu/.test(query)) return 0.2 * spread;
  if (/restarts/.test(query)) return 0.02 * spread;
  if (/duration|latency/.test(query)) return 0.05 * spread;
  return 10 * spread;
}

function round(value: number): number {
  return Number(value.toPrecision(6));
}

/** FNV-1a, 32 bits. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
