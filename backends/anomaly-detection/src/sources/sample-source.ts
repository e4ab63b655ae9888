import type { SeriesPoint } from '../detector';
import { Prng } from '../eval/prng';
import type { MetricSource } from './metric-source';

const DAY = 86400;
const HOUR = 3600;
/** Sample incidents recur this often, so a range of a few hours usually shows one. */
const INCIDENT_PERIOD_SECONDS = 6 * HOUR;
/** Sample incidents start at this offset into each period (UTC), the same for every metric. */
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
 * daily cycle, log-normal noise, and a 20-minute ×4 incident every 6 hours (04:10, 10:10, …
 * UTC) in the CPU series and about half of the others.
 */
export class SampleSource implements MetricSource {
  readonly kind = 'sample';

  async queryRange(query: string, from: number, to: number, step: number): Promise<SeriesPoint[]> {
    const seed = hashText(query);
    const level = levelFor(query, seed);
    const phase = (seed % 24) * HOUR;
    // The CPU query and about half of the others take part in the incidents, together.
    const affected = /cpu/.test(query) || seed % 2 === 0;
    const points: SeriesPoint[] = [];
    for (let t = from; t <= to; t += step) {
      const noise = new Prng(seed ^ Math.floor(t)).normal() * 0.05;
      const daily = 0.5 * Math.sin((2 * Math.PI * (t + phase)) / DAY);
      const sinceIncident =
        (((t - INCIDENT_OFFSET_SECONDS) % INCIDENT_PERIOD_SECONDS) + INCIDENT_PERIOD_SECONDS) %
        INCIDENT_PERIOD_SECONDS;
      const incident = affected && sinceIncident < INCIDENT_SECONDS ? INCIDENT_FACTOR : 1;
      points.push([t, round(level * Math.exp(daily + noise) * incident)]);
    }
    return points;
  }
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
