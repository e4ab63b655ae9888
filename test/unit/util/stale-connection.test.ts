/**
 * GETs sent again after meeting a kept-alive connection the server had closed
 * (proxy-server/src/util/stale-connection.ts), alone and in the OIDC key fetch. (The
 * Argo CD application lookup's own tests drop connections through FakeArgoCD.)
 */
import http from 'http';
import { AddressInfo } from 'net';
import { fetchJwks, DEFAULT_FETCH_LIMITS } from '../../../proxy-server/src/auth/oidc-discovery';
import {
  retryOnStaleConnection,
  StaleConnectionError,
} from '../../../proxy-server/src/util/stale-connection';
import { OidcIssuerConfig } from '../../../proxy-server/src/auth/sso-settings';
import { ConnectionDropper } from '../../helpers/connection-dropper';
import { listenOn } from '../../helpers/echo-backend';

describe('retryOnStaleConnection', () => {
  it('sends again after a stale connection, at most twice, then gives the original error', async () => {
    const original = new Error('socket hang up');
    let attempts = 0;
    const failing = () => {
      attempts++;
      return Promise.reject(new StaleConnectionError(original));
    };
    await expect(retryOnStaleConnection(failing)).rejects.toBe(original);
    expect(attempts).toBe(3);

    attempts = 0;
    const secondWorks = () =>
      ++attempts === 1
        ? Promise.reject(new StaleConnectionError(original))
        : Promise.resolve('answer');
    await expect(retryOnStaleConnection(secondWorks)).resolves.toBe('answer');
    expect(attempts).toBe(2);
  });

  it('does not send again after any other error', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    let attempts = 0;
    await expect(
      retryOnStaleConnection(() => {
        attempts++;
        return Promise.reject(refused);
      }),
    ).rejects.toBe(refused);
    expect(attempts).toBe(1);
  });
});

/** A JWKS endpoint whose `dropper` can close connections instead of answering. */
class KeysServer {
  readonly server: http.Server;
  readonly dropper = new ConnectionDropper();
  answered = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      if (this.dropper.drops(req)) return;
      this.answered++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [] }));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/keys`;
  }
}

describe('OIDC key fetch over kept-alive connections', () => {
  const keys = new KeysServer();
  const config: OidcIssuerConfig = {
    issuer: 'http://127.0.0.1/',
    audiences: ['argo-cd'],
    skipAudienceCheck: false,
  };
  // Its own agent, kept alive like Node's global one (default since Node 19), so that no
  // other test's connection is reused; fetchJwks uses the global agent.
  const agent = new http.Agent({ keepAlive: true });
  const realAgent = http.globalAgent;

  beforeAll(async () => {
    await listenOn(keys.server, 0);
    http.globalAgent = agent;
  });
  afterAll(async () => {
    http.globalAgent = realAgent;
    agent.destroy();
    keys.server.closeAllConnections();
    await new Promise((r) => keys.server.close(r));
  });
  beforeEach(() => {
    keys.dropper.reset();
    keys.answered = 0;
  });

  it('fetches again on a new connection when the kept-alive one was closed under it', async () => {
    await expect(fetchJwks(keys.url, config, DEFAULT_FETCH_LIMITS)).resolves.toEqual({ keys: [] });
    keys.dropper.mode = 'reused';
    await expect(fetchJwks(keys.url, config, DEFAULT_FETCH_LIMITS)).resolves.toEqual({ keys: [] });
    expect(keys.dropper.count).toBe(1);
    expect(keys.answered).toBe(2);
  });

  it('does not fetch again when a new connection fails', async () => {
    agent.destroy(); // no idle connection left: the next request opens a new one
    keys.dropper.mode = 'all';
    await expect(fetchJwks(keys.url, config, DEFAULT_FETCH_LIMITS)).rejects.toThrow(
      /socket hang up|ECONNRESET/,
    );
    expect(keys.dropper.count).toBe(1);
    expect(keys.answered).toBe(0);
  });
});
