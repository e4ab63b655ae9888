import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import http, { OutgoingHttpHeaders } from 'http';
import { AddressInfo } from 'net';
import WebSocket, { WebSocketServer } from 'ws';
import { tmpdir } from 'os';
import { join } from 'path';
import { deriveRelayKey, signRelay } from '../../proxy-server/src/delegate/sidecar/relay-signature';
import { EchoBackend, SeenRequest } from '../helpers/echo-backend';
import { appHeaders } from '../helpers/environment';
import { FakeArgoCD, guestbook } from '../helpers/fake-argocd';
import { eventually, request } from '../helpers/http-client';
import { localSession, TEST_SERVER_SECRET } from '../helpers/local-tokens';
import { ArgoCDConfig } from '../helpers/mounted-dir';
import { freePort } from '../helpers/processes';
import { RedisServer } from '../helpers/redis-server';
import { SidecarProcess } from '../helpers/sidecar-process';

const TOKEN = 'replica-delegate-token-9d8c7b6a5f4e3d21';
const REDIS_PASSWORD = 'redis-password-4b3a2918e7d6';

if (!RedisServer.available() && process.env.CI === 'true') {
  throw new Error('redis-server is missing: .ci/run installs it; these tests never skip under CI');
}
if (!RedisServer.available())
  process.stdout.write('SKIPPED delegate replica tests: no redis-server\n');
const describeWithRedis = RedisServer.available() ? describe : describe.skip;

/**
 * Two sidecar replicas and one agent: the agent's tunnel lands on replica A; a request that
 * reaches replica B is relayed to A (found through Argo CD's Redis), signed with a key
 * derived from server.secretkey.
 */
describeWithRedis('delegates across sidecar replicas', () => {
  const redis = new RedisServer(REDIS_PASSWORD);
  const argocd = new FakeArgoCD();
  const backend = new EchoBackend();
  const wss = new WebSocketServer({ noServer: true });
  const wsBackend = http.createServer((_req, res) => res.writeHead(404).end());
  const dir = mkdtempSync(join(tmpdir(), 'replicas-'));
  let config: ArgoCDConfig;
  const replicas: SidecarProcess[] = [];
  const relayPorts: number[] = [];
  let agent: SidecarProcess;
  const headers = {
    cookie: `argocd.token=${localSession('admin')}`,
    ...appHeaders('argocd:guestbook', 'default'),
  };
  const key = deriveRelayKey(Buffer.from(TEST_SERVER_SECRET));

  const startReplica = async (relayPort: number) => {
    const replica = new SidecarProcess(
      [
        ...config.flags,
        ...argocd.sidecarFlags(),
        '--redis',
        redis.address,
        '--peer-listen',
        `127.0.0.1:${relayPort}`,
        '--advertise-address',
        `127.0.0.1:${relayPort}`,
        '--delegate-ping-interval',
        '1s',
      ],
      { REDIS_PASSWORD },
    );
    return replica.start();
  };
  const startAgent = () => {
    agent = new SidecarProcess(
      [
        '--server',
        replicas[0].url,
        '--name',
        'onprem',
        '--token-file',
        join(dir, 'token'),
        '--allow',
        `127.0.0.1:${backend.port}`,
        '--allow',
        `127.0.0.1:${wsPort()}`,
        '--reconnect-max',
        '1s',
      ],
      {},
      { command: 'delegate' },
    );
    return agent.start();
  };
  const wsPort = () => (wsBackend.address() as AddressInfo).port;
  const viaB = (path: string) =>
    request(`${replicas[1].url}/extensions/private${path}`, { headers });

  beforeAll(async () => {
    await redis.start();
    await argocd.start();
    await backend.start();
    wsBackend.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data) => ws.send(`echo: ${data.toString()}`));
        ws.send(`hello ${String(req.headers['argocd-username'])}`);
      }),
    );
    await new Promise<void>((resolve) => wsBackend.listen(0, '127.0.0.1', resolve));
    argocd.setApplications([guestbook(['admin'])]);
    config = new ArgoCDConfig({
      cm: {
        'extension.config.private': `services:\n- url: http://127.0.0.1:${backend.port}/api\n  delegate: onprem\n`,
        'extension.config.wspriv': `services:\n- url: http://127.0.0.1:${wsPort()}/ws\n  delegate: onprem\n`,
      },
      rbac: { 'policy.csv': 'p, admin, extensions, invoke, *, allow' },
      secret: { 'server.secretkey': TEST_SERVER_SECRET, 'delegate.onprem.token': TOKEN },
    });
    writeFileSync(join(dir, 'token'), TOKEN);
    for (let i = 0; i < 2; i++) {
      relayPorts.push(await freePort());
      replicas.push(await startReplica(relayPorts[i]));
    }
    await startAgent();
    await eventually(async () => expect((await viaB('/ready')).status).toBe(200), 15_000);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await redis.stop();
    await argocd.stop();
    await backend.stop();
    wss.close();
    wsBackend.closeAllConnections();
    wsBackend.close();
    config?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a request that lands on the replica without the tunnel, with the identity it checked', async () => {
    const listB = await request(`${replicas[1].adminUrl}/delegates`);
    expect((listB.json as { delegates: unknown[] }).delegates).toEqual([]);
    const relayed = async () => {
      const metricsB = (await request(`${replicas[1].adminUrl}/metrics`)).body;
      const line =
        /argocd_extension_proxy_delegate_relays_total\{direction="out",result="forwarded"\} (\d+)\n/;
      return Number(line.exec(metricsB)?.[1] ?? 0);
    };
    const relayedBefore = await relayed();
    const reply = await viaB('/items?x=1');
    expect(reply.status).toBe(200);
    const seen = reply.json as unknown as SeenRequest;
    expect(seen.url).toBe('/api/items?x=1');
    expect(seen.headers['argocd-username']).toBe('admin');
    expect(seen.headers.cookie).toBeUndefined();
    for (const name of Object.keys(seen.headers)) {
      expect(name).not.toMatch(/^argocd-extension-proxy-/);
    }
    expect(await relayed()).toBe(relayedBefore + 1);
  });

  it('relays WebSockets too', async () => {
    const ws = new WebSocket(
      replicas[1].url.replace('http://', 'ws://') + '/extensions/wspriv/live',
      { headers },
    );
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (m) => {
        messages.push(m.toString());
        if (messages.length === 1) ws.send('ping');
        if (messages.length === 2) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    expect(messages).toEqual(['hello admin', 'echo: ping']);
  });

  it('refuses relayed requests that are unsigned, altered, replayed or signed with another key', async () => {
    const relay = `http://127.0.0.1:${relayPorts[0]}/api/forged`;
    const signed = (k: Buffer): OutgoingHttpHeaders => {
      const h: OutgoingHttpHeaders = { 'argocd-username': 'admin', host: '127.0.0.1' };
      signRelay(
        k,
        {
          delegate: 'onprem',
          target: `http://127.0.0.1:${backend.port}`,
          connectTimeoutMs: 2000,
          responseTimeoutMs: 5000,
        },
        'GET',
        '/api/forged',
        h,
      );
      return h;
    };
    const before = backend.seen.length;
    expect((await request(relay, { headers: { 'argocd-username': 'admin' } })).status).toBe(401);
    const altered = signed(key);
    altered['argocd-username'] = 'someone-else';
    expect((await request(relay, { headers: altered })).status).toBe(401);
    expect((await request(relay, { headers: signed(Buffer.alloc(32, 1)) })).status).toBe(401);
    expect(backend.seen.length).toBe(before);
    // A correctly signed request goes through once, and only once.
    const good = signed(key);
    expect((await request(relay, { headers: good })).status).toBe(200);
    expect((await request(relay, { headers: good })).status).toBe(401);
    expect(backend.seen.length).toBe(before + 1);
    await replicas[0].waitForLog(
      (l) => l.msg === 'relayed request refused' && l.reason === 'replayed',
    );
  });

  it('answers 503 on every replica once the agent is gone', async () => {
    agent.signal('SIGKILL');
    await agent.waitForExit();
    await eventually(async () => {
      const reply = await viaB('/x');
      expect(reply.json).toEqual({
        error: 'delegate onprem is not connected',
        status: 503,
        delegate: 'onprem',
      });
    }, 15_000);
    const onA = await request(`${replicas[0].url}/extensions/private/x`, { headers });
    expect(onA.status).toBe(503);
    await startAgent();
    await eventually(async () => expect((await viaB('/back')).status).toBe(200), 15_000);
  });

  it('keeps serving local tunnels when Redis is down, and says why relayed ones fail', async () => {
    await redis.stop();
    await eventually(async () => {
      const reply = await viaB('/x');
      expect(reply.json).toEqual({
        error:
          'delegate onprem is not connected to this replica, and the replica registry is unavailable',
        status: 503,
        delegate: 'onprem',
      });
    }, 15_000);
    expect((await request(`${replicas[0].url}/extensions/private/x`, { headers })).status).toBe(
      200,
    );
    for (const replica of replicas) {
      expect((await request(`${replica.adminUrl}/readyz`)).status).toBe(200);
    }
    const output = [...replicas.map((r) => r.output()), agent.output()].join('\n');
    for (const secret of [REDIS_PASSWORD, TOKEN, TEST_SERVER_SECRET]) {
      expect(output).not.toContain(secret);
    }
  });
});
