import type {
  AnomaliesResponse,
  AnomalyWindow,
  WindowDriver,
} from '../../../extension/src/api/types';
import {
  describeChange,
  explainWindows,
  groupWindows,
  headerState,
} from '../../../extension/src/model/explain';
import { shortRevision, syncBefore, syncsOf } from '../../../extension/src/model/syncs';
import { formatQuantity, valueAxis } from '../../../extension/src/model/units';

const MIB = 1024 * 1024;

describe('formatQuantity: human units', () => {
  it.each([
    [0.42, 'cores', '0.42 cores'],
    [1.5, 'cores', '1.5 cores'],
    [0.042, 'cores', '42 millicores'],
    [536870912, 'bytes', '512 MiB'],
    [1.5 * 1024 ** 3, 'bytes', '1.5 GiB'],
    [2048, 'bytes', '2 KiB'],
    [512, 'bytes', '512 B'],
    [180, 'MiB', '180 MiB'],
    [0.23, 'seconds', '230 ms'],
    [2.5, 'seconds', '2.5 s'],
    [12.3, 'ms', '12.3 ms'],
    [1234, 'req/s', '1.23k req/s'],
    [0.5, 'req/s', '0.5 req/s'],
    [3, 'restarts', '3 restarts'],
    [0, 'cores', '0 millicores'],
    [null, 'cores', '—'],
  ])('%p %s reads %p', (value, unit, text) => {
    expect(formatQuantity(value, unit)).toBe(text);
  });
});

describe('valueAxis: nice ticks in a readable unit', () => {
  it('puts bytes on a MiB axis with round ticks', () => {
    // 476 MiB of memory: the axis goes to 1000 MiB? No: 476 × 1.1 = 524 → 1000 would waste
    // half the panel, but 1-2-2.5-5 steps give 1000 after 524; the top is the next nice
    // value in MiB.
    expect(valueAxis(0, 476 * MIB, 'bytes')).toEqual({
      min: 0,
      max: 1000 * MIB,
      ticks: [0, 500 * MIB, 1000 * MIB],
      labels: ['0', '500', '1000'],
      unit: 'MiB',
    });
    expect(valueAxis(0, 200 * MIB, 'bytes')).toMatchObject({
      labels: ['0', '125', '250'],
      unit: 'MiB',
    });
  });

  it('switches to cores when the rounded top reaches one core', () => {
    expect(valueAxis(0, 0.68, 'cores')).toMatchObject({
      max: 1,
      labels: ['0', '0.5', '1'],
      unit: 'cores',
    });
    expect(valueAxis(0, 0.2, 'cores')).toMatchObject({
      labels: ['0', '125', '250'],
      unit: 'millicores',
    });
  });

  it('shows latency in ms and keeps an empty series on a unit axis', () => {
    expect(valueAxis(0, 0.14, 'seconds')).toMatchObject({
      labels: ['0', '100', '200'],
      unit: 'ms',
    });
    expect(valueAxis(0, 0, 'req/s')).toMatchObject({ min: 0, max: 1, labels: ['0', '0.5', '1'] });
  });

  it('extends below zero for negative values', () => {
    expect(valueAxis(-3, 4, '')).toMatchObject({ min: -5, max: 5, ticks: [-5, 0, 5] });
  });
});

describe('syncsOf: the syncs Argo CD hands the extension', () => {
  const app = {
    status: {
      history: [
        {
          id: 1,
          revision: '5f2a9c1e0b7d4a3c8e6f1a2b3c4d5e6f7a8b9c0d',
          deployStartedAt: '2026-12-07T04:59:00Z',
          deployedAt: '2026-12-07T05:00:00Z',
        },
        // Several sources (models.RevisionHistory.revisions), a Helm chart version first.
        { id: 2, revisions: ['1.4.2', 'abc1234def'], deployedAt: '2026-12-07T06:00:00Z' },
        { id: 3, revision: 'x' }, // no deployedAt: not a completed sync
        'nonsense',
      ],
      operationState: {
        phase: 'Running',
        startedAt: '2026-12-07T07:00:00Z',
        operation: { sync: { revision: 'feedbeefcafe0123456789abcdef0123456789ab' } },
      },
    },
  };

  it('reads history and the running operation, oldest first', () => {
    const at = (iso: string) => Date.parse(iso) / 1000;
    expect(syncsOf(app)).toEqual([
      {
        at: at('2026-12-07T05:00:00Z'),
        startedAt: at('2026-12-07T04:59:00Z'),
        revision: '5f2a9c1',
        running: false,
      },
      {
        at: at('2026-12-07T06:00:00Z'),
        startedAt: undefined,
        revision: '1.4.2 (+1 sources)',
        running: false,
      },
      {
        at: at('2026-12-07T07:00:00Z'),
        startedAt: at('2026-12-07T07:00:00Z'),
        revision: 'feedbee',
        running: true,
      },
    ]);
  });

  it('reads nothing from an application without status, or a finished operation', () => {
    expect(syncsOf({})).toEqual([]);
    expect(
      syncsOf({
        status: { operationState: { phase: 'Succeeded', startedAt: '2026-12-07T07:00:00Z' } },
      }),
    ).toEqual([]);
  });

  it('relates a window to the sync it began during or within 30 minutes after', () => {
    const syncs = syncsOf(app).filter((s) => !s.running);
    const sync = syncs[0];
    expect(syncBefore(sync.at + 4 * 60 + 59, syncs)).toEqual({ sync, kind: 'after', minutes: 4 });
    expect(syncBefore(sync.at - 30, syncs)).toEqual({ sync, kind: 'during', minutes: 0 });
    expect(syncBefore(sync.at + 30 * 60, syncs)?.sync).toBe(sync);
    expect(syncBefore(sync.at + 30 * 60 + 1, syncs)).toBeUndefined();
    expect(syncBefore(sync.at - 61, syncs)).toBeUndefined();
  });

  it('shortens git SHAs only', () => {
    expect(shortRevision('abc1234def5678abc1234def5678abc1234def56')).toBe('abc1234');
    expect(shortRevision('v1.2.3')).toBe('v1.2.3');
    expect(shortRevision('')).toBe('an unknown revision');
  });
});

function response(windows: AnomalyWindow[], score = 0.4): AnomaliesResponse {
  return {
    resource: { group: 'apps', kind: 'Deployment', namespace: 'ns', name: 'web' },
    range: { from: 1000, to: 1000 + 6 * 3600, step: 60 },
    source: 'prometheus',
    summary: {
      state: windows.length ? 'anomalous' : 'normal',
      score,
      maxScore: 8,
      anomalousWindows: windows.length,
    },
    series: [
      { metric: 'cpu', label: 'CPU', unit: 'cores', points: [], query: 'sum(rate(cpu[5m]))' },
    ],
    scores: [],
    windows,
  };
}

const DRIVER: WindowDriver = {
  metric: 'cpu',
  score: 7.8,
  peak: 5000,
  direction: 'up',
  observed: 0.68,
  expected: 0.42,
  low: 0.38,
  high: 0.46,
  factor: 1.62,
  baseline: 'seasonal',
};

describe('explainWindows and headerState', () => {
  it('says which metric, by how much, when, and what was expected', () => {
    const end = 1000 + 6 * 3600;
    const data = response([
      { start: 4000, end: 7600, score: 7.8, metric: 'cpu', drivers: [DRIVER] },
      {
        start: end - 600,
        end: end + 60,
        score: 6,
        metric: 'cpu',
        drivers: [{ ...DRIVER, direction: 'down', factor: 0.4 }],
      },
    ]);
    const syncAt = 4000 - 4 * 60;
    const [newest, older] = explainWindows(data, [
      { at: syncAt, revision: 'abc1234', running: false },
    ]);
    expect(newest.ongoing).toBe(true);
    expect(newest.headline).toMatch(/^CPU 2\.5× below usual since /);
    expect(older.ongoing).toBe(false);
    expect(older.headline).toMatch(/^CPU 1\.6× above usual .+–.+$/);
    expect(older.detail).toBe('expected 0.42 cores, saw 0.68 cores');
    expect(older.syncNote).toBe('began 4 min after sync to abc1234');
    expect(newest.syncNote).toBe('');
  });

  it('falls back to the score for a backend without explanations', () => {
    const [item] = explainWindows(
      response([{ start: 4000, end: 7600, score: 7.8, metric: 'cpu' }]),
      [],
    );
    expect(item.headline).toMatch(/^CPU anomalous .+ \(score 7\.8\)$/);
    expect(item.detail).toBe('');
  });

  it.each([
    [{ ...DRIVER, factor: null }, 'above usual'],
    [{ ...DRIVER, factor: 1.02 }, 'slightly above usual'],
    [{ ...DRIVER, factor: 23.4 }, '23× above usual'],
    [{ ...DRIVER, direction: 'down' as const, factor: 0.5 }, '2× below usual'],
  ])('describes a change: %#', (driver, text) => {
    expect(describeChange(driver)).toBe(text);
  });

  it('keeps "now" apart from "somewhere in the range"', () => {
    const end = 1000 + 6 * 3600;
    expect(headerState(response([{ start: 4000, end: 7600, score: 7.8, metric: 'cpu' }]))).toEqual({
      kind: 'normal-now',
      windows: 1,
    });
    expect(
      headerState(response([{ start: end - 600, end: end + 60, score: 7, metric: 'cpu' }])),
    ).toEqual({
      kind: 'anomalous-now',
      since: end - 600,
    });
    expect(headerState(response([], 6.2))).toEqual({ kind: 'anomalous-now', since: end });
    expect(headerState(response([]))).toEqual({ kind: 'normal', windows: 0 });
    expect(
      headerState({
        ...response([]),
        summary: { state: 'unknown', score: 0, maxScore: 0, anomalousWindows: 0 },
      }),
    ).toEqual({ kind: 'unknown' });
  });
});

describe('one anomaly seen in several metrics', () => {
  const cpu: AnomalyWindow = {
    start: 4000,
    end: 7600,
    score: 7.8,
    metric: 'cpu',
    drivers: [DRIVER],
  };
  const memory: AnomalyWindow = {
    start: 4300,
    end: 6000,
    score: 9.1,
    metric: 'memory',
    drivers: [{ ...DRIVER, metric: 'memory', factor: 2 }],
  };
  const later: AnomalyWindow = { start: 7600, end: 9000, score: 6, metric: 'cpu' };

  it('groups windows whose spans overlap, strongest first; touching ones stay apart', () => {
    expect(groupWindows([later, cpu, memory])).toEqual([[memory, cpu], [later]]);
  });

  it('explains the group once, led by its strongest metric, and counts it once', () => {
    const data = response([cpu, memory, later]);
    data.series.push({ metric: 'memory', label: 'Memory', unit: 'bytes', points: [] });
    const [newest, incident] = explainWindows(data, []);
    expect(newest.windows).toEqual([later]);
    expect(incident.windows).toEqual([memory, cpu]);
    expect([incident.start, incident.end]).toEqual([4000, 7600]);
    expect(incident.headline).toMatch(/^Memory 2× above usual /);
    expect(incident.also).toBe('CPU 1.6× above usual');
    expect(newest.also).toBe('');
    expect(headerState(data)).toEqual({ kind: 'normal-now', windows: 2 });
  });
});
