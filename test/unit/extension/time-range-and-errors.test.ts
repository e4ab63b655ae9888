import { AnomalyApiError } from '../../../extension/src/api/anomaly-client';
import { describeError } from '../../../extension/src/model/error-message';
import { formatScore } from '../../../extension/src/model/format';
import { TIME_RANGES, timeRangeEndingAt } from '../../../extension/src/model/time-range';

describe('timeRangeEndingAt', () => {
  it.each([
    ['1h', 3600, 15],
    ['6h', 21600, 90],
    ['24h', 86400, 360],
    ['7d', 604800, 2520],
  ] as const)('gives %s as %i seconds with a step of %i s', (id, seconds, step) => {
    // 1795303440 is a multiple of every step (2520 s); the range ends on the step's grid.
    const grid = 1795303440;
    for (const now of [grid, grid + 0.9, grid + step - 1]) {
      expect(timeRangeEndingAt(id, now)).toEqual({ from: grid - seconds, to: grid, step });
    }
    expect(timeRangeEndingAt(id, grid + step).to).toBe(grid + step);
    expect(timeRangeEndingAt(id, grid - 1).to).toBe(grid - step);
  });

  it('offers the four ranges of the selector', () => {
    expect(TIME_RANGES.map((r) => r.id)).toEqual(['1h', '6h', '24h', '7d']);
  });
});

describe('describeError', () => {
  it('shows the missing permission and the policy line on a 403', () => {
    const message = describeError(
      new AnomalyApiError(
        403,
        {
          error: 'permission denied: extensions, invoke, anomaly',
          status: 403,
          requiredPermission: 'extensions, invoke, anomaly',
          policy: 'p, alice, extensions, invoke, anomaly, allow',
        },
        'permission denied',
      ),
    );
    expect(message.requiredPermission).toBe('extensions, invoke, anomaly');
    expect(message.policy).toBe('p, alice, extensions, invoke, anomaly, allow');
    expect(message.advice).toMatch(/argocd-rbac-cm/);
  });

  it('asks for access without a policy line when the 403 is about the application', () => {
    const message = describeError(
      new AnomalyApiError(403, { error: 'permission denied', status: 403 }, 'permission denied'),
    );
    expect(message.policy).toBeUndefined();
    expect(message.advice).toMatch(/access to this application/);
  });

  it('says to log in again on a 401', () => {
    expect(describeError(new AnomalyApiError(401, undefined, 'x')).advice).toMatch(/Log in/);
  });

  it.each([502, 503, 504])('says the backend or its delegate is unreachable on a %i', (status) => {
    const message = describeError(new AnomalyApiError(status, undefined, 'x'));
    expect(message.advice).toMatch(/backend \(or the delegate/);
  });

  it('reports a network failure without a status', () => {
    expect(describeError(new AnomalyApiError(0, undefined, 'x')).title).toMatch(/no answer/);
  });
});

describe('formatting', () => {
  it.each([
    [7.44, '7.4'],
    [0, '0.0'],
    [null, '—'],
    [undefined, '—'],
  ])('formats score %p as %p', (score, text) => {
    expect(formatScore(score)).toBe(text);
  });
});
