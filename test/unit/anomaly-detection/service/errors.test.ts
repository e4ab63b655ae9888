import {
  InputError,
  toErrorResponse,
} from '../../../../backends/anomaly-detection/src/service/errors';
import {
  SourceQueryError,
  SourceTimeoutError,
  SourceUnavailableError,
} from '../../../../backends/anomaly-detection/src/sources/metric-source';

describe('toErrorResponse', () => {
  it.each([
    [new InputError('kind', 'kind is required'), 400],
    [new SourceUnavailableError('down'), 502],
    [new SourceQueryError('bad query'), 502],
    [new SourceTimeoutError('slow'), 504],
    [new Error('secret detail'), 500],
  ])('maps %s to %d', (err, status) => {
    const response = toErrorResponse(err);
    expect(response.status).toBe(status);
    expect(response.body.status).toBe(status);
    expect(response.body.error).not.toContain('secret detail');
  });
});
