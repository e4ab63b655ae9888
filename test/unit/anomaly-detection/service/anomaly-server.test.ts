import http from 'http';
import type { AddressInfo } from 'net';
import type { SeriesPoint } from '../../../../backends/anomaly-detection/src/detector';
import { createAnomalyServer } from '../../../../backends/anomaly-detection/src/service/anomaly-server';
import { DEFAULT_QUERIES } from '../../../../backends/anomaly-detection/src/sources/metric-queries';
import {
  type QueryCounters,
  SourceUnavailableError,
} from '../../../../backends/anomaly-detection/src/sources/metric-source';
import { SampleSource } from '../../../../backends/anomaly-detection/src/sources/sample-source';

/** The sample source, counting its range queries, failing while `failing` is set. */
class CountingSource extends SampleSource {
  calls = 0;
  failing = false;

  override async queryRange(
    query: string,
    from: number,
    to: number,
    step: number,
    counters?: QueryCounters,
  ): Promise<SeriesPoint[]> {
    this.calls++;
    // Every query of a request waits a tick, so identical requests overlap.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failing) throw new SourceUnavailableError('Prometheus unreachable: ECONNREFUSED');
    return super.queryRange(query, from, to, step, counters);
  }
}

const PATH =
  '/api/v1/anomalies?group=&kind=Pod&namespace=shop&name=web-0&from=1796600000&to=1796603600&step=60';

async function withServer(
  options: { reportCacheMs?: number },
  run: (
    get: (path: string) => Promise<{ status: number; body: string }>,
    source: CountingSource,
    log: Record<string, unknown>[],
  ) => Promise<void>,
): Promise<void> {
  const source = new CountingSource();
  const log: Record<string, unknown>[] = [];
  const server = createAnomalyServer({
    source,
    queries: DEFAULT_QUERIES,
    log: (_level, msg, fields) => {
      if (msg === 'request') log.push(fields ?? {});
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
  try {
    await run(get, source, log);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('createAnomalyServer: one analysis per report', () => {
  it('answers identical requests in flight at once with one analysis, then from memory', async () => {
    await withServer({}, async (get, source, log) => {
      const [a, b] = await Promise.all([get(PATH), get(PATH)]);
      expect(a.status).toBe(200);
      expect(b.body).toBe(a.body);
      const oneAnalysis = source.calls;
      // Pod: cpu, memory, restarts and the optional request metrics, over 5 history ranges.
      expect(oneAnalysis).toBeGreaterThan(0);
      expect(log.map((l) => l.report)).toEqual([undefined, 'shared']);
      expect(log[0].queries).toBe(oneAnalysis);
      expect(log[1].queries).toBe(0);

      const c = await get(PATH);
      expect(c.body).toBe(a.body);
      expect(source.calls).toBe(oneAnalysis);
      expect(log[2]).toMatchObject({ report: 'cached', queries: 0, status: 200 });

      // Another range is another analysis.
      expect((await get(PATH.replace('to=1796603600', 'to=1796603660'))).status).toBe(200);
      expect(source.calls).toBe(2 * oneAnalysis);
    });
  });

  it('analyses every request again with reportCacheMs 0', async () => {
    await withServer({ reportCacheMs: 0 }, async (get, source, log) => {
      expect((await get(PATH)).status).toBe(200);
      const oneAnalysis = source.calls;
      expect((await get(PATH)).status).toBe(200);
      expect(source.calls).toBe(2 * oneAnalysis);

      expect(log.map((l) => l.report)).toEqual([undefined, undefined]);
    });
  });

  it('keeps no failed analysis', async () => {
    await withServer({}, async (get, source, log) => {
      source.failing = true;
      expect((await get(PATH)).status).toBe(502);
      source.failing = false;
      const before = source.calls;
      expect((await get(PATH)).status).toBe(200);
      expect(source.calls).toBeGreaterThan(before);
      expect(log.map((l) => [l.status, l.report])).toEqual([
        [502, undefined],
        [200, undefined],
      ]);
    });
  });
});
