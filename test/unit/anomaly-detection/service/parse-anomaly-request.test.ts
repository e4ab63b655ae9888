import { InputError } from '../../../../backends/anomaly-detection/src/service/errors';
import { parseAnomalyRequest } from '../../../../backends/anomaly-detection/src/service/parse-anomaly-request';

const VALID = {
  group: 'apps',
  kind: 'Deployment',
  namespace: 'guestbook',
  name: 'guestbook-ui',
  from: '1795300000',
  to: '1795303600',
};

function parse(overrides: Record<string, string | null>): ReturnType<typeof parseAnomalyRequest> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...VALID, ...overrides })) {
    if (value !== null) params.set(key, value);
  }
  return parseAnomalyRequest(params);
}

describe('parseAnomalyRequest', () => {
  it('accepts a request as docs/anomaly-api.md shows it', () => {
    expect(parse({ step: '60' })).toEqual({
      resource: { group: 'apps', kind: 'Deployment', namespace: 'guestbook', name: 'guestbook-ui' },
      from: 1795300000,
      to: 1795303600,
      step: 60,
    });
    expect(parse({ group: '', kind: 'Pod', name: 'web.v1-0' }).resource.kind).toBe('Pod');
    expect(parse({ group: 'argoproj.io', kind: 'Rollout' }).step).toBeUndefined();
  });

  it.each([
    [{ kind: null }, 'kind', 'kind is required'],
    [{ kind: 'Service' }, 'kind', 'not supported'],
    [{ group: 'extensions' }, 'group', 'group of a Deployment must be "apps"'],
    [{ group: null }, 'group', 'group is required'],
    [{ namespace: '' }, 'namespace', 'Kubernetes namespace name'],
    [{ name: 'a"}) or vector(1) #' }, 'name', 'Kubernetes object name'],
    [{ name: '.*' }, 'name', 'Kubernetes object name'],
    [{ name: 'back\\slash' }, 'name', 'Kubernetes object name'],
    [{ name: 'x'.repeat(254) }, 'name', 'Kubernetes object name'],
    [{ from: 'yesterday' }, 'from', 'from must be a whole number of seconds'],
    [{ to: '-5' }, 'to', 'to must be a whole number of seconds'],
    [{ to: '1795300000' }, 'from', 'from must be before to'],
    [{ from: '1700000000' }, 'from', 'range must be at most'],
    [{ step: '0' }, 'step', 'step must be between 1 and 86400 seconds'],
    [{ step: '1.5' }, 'step', 'whole number'],
    [{ step: '100000' }, 'step', 'step must be between'],
  ])('refuses %j naming %s', (overrides, parameter, message) => {
    expect(() => parse(overrides)).toThrow(InputError);
    try {
      parse(overrides);
    } catch (err) {
      expect((err as InputError).parameter).toBe(parameter);
      expect((err as InputError).message).toContain(message);
    }
  });

  it('refuses a parameter given twice', () => {
    const params = new URLSearchParams(VALID);
    params.append('name', 'other');
    expect(() => parseAnomalyRequest(params)).toThrow('name is given more than once');
  });
});
