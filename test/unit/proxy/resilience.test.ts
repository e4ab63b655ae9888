import { CircuitBreaker, RetryBudget } from '../../../proxy-server/src/proxy/backend-health';
import { RateLimiter, TokenBucket } from '../../../proxy-server/src/proxy/limits';
import { parseExtensionConfigs } from '../../../proxy-server/src/config/extension-config';
import { TooManyRequestsError } from '../../../proxy-server/src/errors';
import { BoundedCache } from '../../../proxy-server/src/util/bounded-cache';

describe('TokenBucket', () => {
  it('allows the burst, then the rate, and says how long to wait', () => {
    const bucket = new TokenBucket({ requestsPerSecond: 2, burst: 3 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBeCloseTo(0.5);
    expect(bucket.take(500)).toBe(0); // one token back after 0.5 s
    expect(bucket.take(500)).toBeCloseTo(0.5);
    expect(bucket.take(10_000)).toBe(0); // refilled, capped at the burst
    expect(bucket.take(10_000)).toBe(0);
    expect(bucket.take(10_000)).toBe(0);
    expect(bucket.take(10_000)).toBeCloseTo(0.5);
  });
});

describe('RateLimiter', () => {
  it('limits each user separately and all users together', () => {
    let now = 0;
    const limiter = new RateLimiter(
      {
        perUser: { requestsPerSecond: 1, burst: 1 },
        perExtension: { requestsPerSecond: 1, burst: 2 },
      },
      () => now,
    );
    const scopes: string[] = [];
    const check = (user: string) => {
      try {
        limiter.check(user, (scope) => scopes.push(scope));
        return 'ok';
      } catch (err) {
        expect(err).toBeInstanceOf(TooManyRequestsError);
        return (err as TooManyRequestsError).headers['retry-after'];
      }
    };
    expect(check('a')).toBe('ok');
    expect(check('a')).toBe('1');
    expect(check('b')).toBe('ok');
    expect(check('c')).toBe('1'); // the extension's burst of 2 is spent
    expect(scopes).toEqual(['user', 'extension']);
    now = 1000;
    expect(check('a')).toBe('ok');
  });

  const trackedUsers = (limiter: RateLimiter) =>
    (limiter as unknown as { users: BoundedCache<unknown> }).users.size;

  it('tracks a bounded number of users, forgetting those not seen recently', () => {
    const limiter = new RateLimiter({ perUser: { requestsPerSecond: 1, burst: 1 } }, () => 0);
    for (let i = 0; i < 10_050; i++) limiter.check(`user-${i}`, () => undefined);
    expect(trackedUsers(limiter)).toBe(10_000);
    // user-0 was forgotten, so it starts with a full bucket again.
    expect(() => limiter.check('user-0', () => undefined)).not.toThrow();
    expect(() => limiter.check('user-10049', () => undefined)).toThrow(TooManyRequestsError);
  });

  it('keeps a user seen again over older ones when it must forget one', () => {
    const limiter = new RateLimiter({ perUser: { requestsPerSecond: 1, burst: 1 } }, () => 0);
    const check = (user: string) => {
      try {
        limiter.check(user, () => undefined);
        return 'ok';
      } catch {
        return 'limited';
      }
    };
    for (let i = 0; i < 10_000; i++) check(`user-${i}`);
    expect(check('user-0')).toBe('limited'); // seen again
    check('user-10000'); // one must go: user-1, the oldest not seen since
    expect(trackedUsers(limiter)).toBe(10_000);
    expect(check('user-0')).toBe('limited');
    expect(check('user-1')).toBe('ok');
  });

  it("does not re-insert a known user's bucket on each request", () => {
    const limiter = new RateLimiter({ perUser: { requestsPerSecond: 1000, burst: 1000 } }, () => 0);
    limiter.check('alice', () => undefined);
    const set = jest.spyOn(Map.prototype, 'set');
    const remove = jest.spyOn(Map.prototype, 'delete');
    try {
      for (let i = 0; i < 100; i++) limiter.check('alice', () => undefined);
      expect([set.mock.calls.length, remove.mock.calls.length]).toEqual([0, 0]);
    } finally {
      set.mockRestore();
      remove.mockRestore();
    }
  });
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, lets one probe through after openFor, closes on success', () => {
    let now = 0;
    const states: string[] = [];
    const breaker = new CircuitBreaker(
      { consecutiveFailures: 2, openForMs: 1000 },
      (s) => states.push(s),
      () => now,
    );
    breaker.failure();
    breaker.success(); // not consecutive
    breaker.failure();
    expect(breaker.allow()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.allow()).toBe(false);
    now = 1000;
    expect(breaker.allow()).toBe(true); // the probe
    expect(breaker.allow()).toBe(false); // only one
    breaker.failure();
    expect(breaker.state).toBe('open');
    now = 2500;
    expect(breaker.allow()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });
});

describe('RetryBudget', () => {
  it('allows a saved-up burst, then about percent% of requests', () => {
    const budget = new RetryBudget(20, 2);
    expect([budget.spend(), budget.spend(), budget.spend()]).toEqual([true, true, false]);
    let granted = 0;
    for (let i = 0; i < 100; i++) {
      budget.earn();
      if (budget.spend()) granted++;
    }
    expect(granted).toBe(20);
    expect(new RetryBudget(0).spend()).toBe(false);
  });
});

describe('resilience configuration', () => {
  const parse = (yaml: string) => parseExtensionConfigs({ 'extension.config.x': yaml }, {});

  it('reads every field with its defaults', () => {
    const result =
      parse(`limits: {maxRequestBodyBytes: 10, maxRequestHeaderBytes: 20, maxConcurrentRequests: 3}
rateLimit: {perUser: {requestsPerSecond: 0.5}, perExtension: {requestsPerSecond: 100, burst: 150}}
retries: {attempts: 2, budgetPercent: 10}
services:
- url: http://a/api
  failoverUrls: [http://b/api]
`);
    expect(result.problems).toEqual([]);
    const backend = result.extensions.get('x')!.backend;
    expect(backend.limits).toEqual({
      maxRequestBodyBytes: 10,
      maxRequestHeaderBytes: 20,
      maxConcurrentRequests: 3,
    });
    expect(backend.rateLimit).toEqual({
      perUser: { requestsPerSecond: 0.5, burst: 1 },
      perExtension: { requestsPerSecond: 100, burst: 150 },
    });
    expect(backend.retries).toEqual({ attempts: 2, budgetPercent: 10 });
    // Failover URLs turn the circuit breaker on with its defaults.
    expect(backend.circuitBreaker).toEqual({ consecutiveFailures: 5, openForMs: 30_000 });
    expect(backend.services[0].failoverUrls?.map(String)).toEqual(['http://b/api']);
    const plain = parse('services: [{url: "http://a"}]').extensions.get('x')!.backend;
    expect(plain.retries).toEqual({ attempts: 1, budgetPercent: 20 });
    expect(plain.circuitBreaker).toBeUndefined();
  });

  it('reports every bad value with its path', () => {
    const result = parse(`limits: {maxRequestBodyBytes: -1, maxConcurrentRequests: 1.5}
rateLimit: {perUser: {burst: 2}}
retries: {attempts: 9, budgetPercent: 101}
circuitBreaker: {consecutiveFailures: 0, openFor: soon}
services:
- url: http://a
  failoverUrls: [https://b, http://c/other]
`);
    expect(result.problems).toEqual([
      'extension.config.x: limits.maxRequestBodyBytes must be a whole number above 0',
      'extension.config.x: limits.maxConcurrentRequests must be a whole number above 0',
      'extension.config.x: rateLimit.perUser.requestsPerSecond must be set',
      'extension.config.x: retries.attempts must be a whole number from 0 to 5',
      'extension.config.x: retries.budgetPercent must be a number from 0 to 100',
      'extension.config.x: services[0].failoverUrls[0] must use http like url',
      'extension.config.x: services[0].failoverUrls[1] must have the same path as url (/)',
      'extension.config.x: circuitBreaker.consecutiveFailures must be a whole number above 0',
      'extension.config.x: circuitBreaker.openFor must be a duration like "2s", "500ms" or "1m30s"',
    ]);
  });
});
