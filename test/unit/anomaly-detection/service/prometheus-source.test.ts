import { SourceQueryError } from '../../../../backends/anomaly-detection/src/sources/metric-source';
import { parseRangeResponse } from '../../../../backends/anomaly-detection/src/sources/prometheus-source';

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
