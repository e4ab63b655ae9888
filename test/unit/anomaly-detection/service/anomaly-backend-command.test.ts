import {
  parseBackendArgs,
  UsageError,
} from '../../../../backends/anomaly-detection/src/service/anomaly-backend-command';

describe('parseBackendArgs', () => {
  it('reads flags, with environment variables as defaults', () => {
    expect(
      parseBackendArgs(['--listen', '127.0.0.1:0', '--queries=q.yaml'], {
        ARGOCD_EXTENSION_PROXY_PROMETHEUS_URL: 'http://prom:9090',
        ARGOCD_EXTENSION_PROXY_PROMETHEUS_TIMEOUT: '2.5',
      }),
    ).toEqual({
      host: '127.0.0.1',
      port: 0,
      prometheusUrl: 'http://prom:9090',
      sample: false,
      queriesFile: 'q.yaml',
      timeoutMs: 2500,
      maxQueries: 8,
      cacheBytes: 32 * 1024 * 1024,
      help: false,
    });
    expect(
      parseBackendArgs(['--sample', '--listen=:1', '--max-queries', '2'], {
        ARGOCD_EXTENSION_PROXY_CACHE_MB: '0',
      }),
    ).toMatchObject({ maxQueries: 2, cacheBytes: 0 });
    expect(
      parseBackendArgs(['--sample'], { ARGOCD_EXTENSION_PROXY_LISTEN: '[::1]:8080' }),
    ).toMatchObject({ host: '::1', port: 8080, sample: true });
  });

  it.each([
    [['--sample'], '--listen must be HOST:PORT'],
    [['--listen', ':1'], 'give --prometheus URL or --sample'],
    [['--listen', ':1', '--sample', '--prometheus', 'http://p'], 'not both'],
    [['--listen', ':1', '--sample', '--timeout', '0'], '--timeout must be a positive number'],
    [['--listen', ':1', '--sample', '--max-queries', '0'], '--max-queries must be a whole number'],
    [['--listen', ':1', '--sample', '--max-queries', '2.5'], '--max-queries must be a whole'],
    [['--listen', ':1', '--sample', '--cache-mb', '-1'], '--cache-mb must be a whole number'],
    [['--listen', ':1', '--sample', '--cache-mb', 'lots'], '--cache-mb must be a whole number'],
    [['--bogus'], 'unknown argument "--bogus"'],
    [['--listen'], 'flag --listen needs a value'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseBackendArgs(argv, {})).toThrow(UsageError);
    expect(() => parseBackendArgs(argv, {})).toThrow(message);
  });
});
