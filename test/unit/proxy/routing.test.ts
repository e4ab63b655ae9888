import { resolveService } from '../../../proxy-server/src/proxy/routing';
import { ExtensionConfig, ServiceConfig } from '../../../proxy-server/src/config/types';

function service(url: string, cluster?: ServiceConfig['cluster']): ServiceConfig {
  return { url: new URL(url), cluster, headers: [] };
}

function extension(services: ServiceConfig[]): ExtensionConfig {
  return {
    name: 'x',
    backend: {
      connectionTimeoutMs: 1,
      keepAliveMs: 1,
      idleConnectionTimeoutMs: 1,
      maxIdleConnections: 1,
      responseTimeoutMs: 1,
      services,
      limits: {},
      rateLimit: {},
      retries: { attempts: 0, budgetPercent: 0 },
    },
  };
}

describe('resolveService', () => {
  const byName = service('http://by-name', { name: 'in-cluster' });
  const byServer = service('http://by-server', { server: 'https://remote:6443' });
  const both = service('http://both', { name: 'prod', server: 'https://prod:6443' });
  const ext = extension([byName, byServer, both]);

  it('uses the only service for every application, whatever its destination', () => {
    const single = service('http://single', { name: 'ignored' });
    expect(resolveService(extension([single]), { server: 'https://elsewhere' })).toBe(single);
  });

  it.each([
    ['a destination name', { name: 'in-cluster' }, byName],
    ['a destination server', { server: 'https://remote:6443' }, byServer],
    ['the name of a service that also sets server', { name: 'prod' }, both],
    ['the server of a service that also sets name', { server: 'https://prod:6443' }, both],
    ['both name and server', { name: 'prod', server: 'https://prod:6443' }, both],
  ])('selects by %s', (_case, destination, expected) => {
    expect(resolveService(ext, destination)).toBe(expected);
  });

  it.each([
    ['an unknown cluster', { server: 'https://unknown' }],
    [
      'a name that only matches with a different server',
      { name: 'in-cluster', server: 'https://x' },
    ],
    ['no destination', {}],
  ])('answers 400 for %s', (_case, destination) => {
    expect(() => resolveService(ext, destination)).toThrow(
      "extension x has no backend for the application's destination cluster",
    );
  });
});
