import http from 'http';
import type { AddressInfo } from 'net';
import {
  newQueryCounters,
  SourceQueryError,
} from '../../../../backends/anomaly-detection/src/sources/metric-source';
import {
  parseRangeResponse,
  PrometheusSource,
} from '../../../../backends/anomaly-detection/src/sources/prometheus-source';

describe('parseRangeResponse', () => {
  it('sums result series per timestamp and turns NaN into gaps', () => {
    const body = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { pod: 'a' },
            values: [
              [120, '1'],
              [60, '2'],
              [180, 'NaN'],
            ],
          },
          { metric: { pod: 'b' }, values: [[60, '0.5']] },
        ],
      },
    });
    expect(parseRangeResponse(200, body)).toEqual([
      [60, 2.5],
      [120, 1],
      [180, null],
    ]);
  });

  it.each([
    ['not json', 'non-JSON body'],
    ['{"status":"error","errorType":"bad_data","error":"parse error at char 5"}', 'parse error'],
    ['{"status":"success","data":{"resultType":"vector","result":[]}}', 'not return a matrix'],
  ])('refuses %j with a SourceQueryError', (body, message) => {
    expect(() => parseRangeResponse(400, body)).toThrow(SourceQueryError);
    expect(() => parseRangeResponse(400, body)).toThrow(message);
  });
});

describe('PrometheusSource: queries in flight', () => {
  it('keeps at most maxConcurrent queries in flight to Prometheus, over every caller', async () => {
    let inFlight = 0;
    let most = 0;
    const held: (() => void)[] = [];
    const server = http.createServer((_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      held.push(() => {
        inFlight--;
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const source = new PrometheusSource({ url: `http://127.0.0.1:${port}`, maxConcurrent: 3 });
    const counters = newQueryCounters();
    try {
      const answers = Array.from({ length: 12 }, (_, i) =>
        source.queryRange(`q${i}`, 0, 60, 60, counters),
      );
      // Answer the held queries one at a time, checking the bound before each.
      for (let answered = 0; answered < 12; answered++) {
        while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(inFlight).toBeLessThanOrEqual(3);
        held.shift()!();
      }
      expect(await Promise.all(answers)).toEqual(Array.from({ length: 12 }, () => []));
      expect(most).toBe(3);
      expect(counters.queries).toBe(12);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
