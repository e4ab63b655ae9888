import { createHash } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'fs';
import http from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import WebSocket, { WebSocketServer } from 'ws';
import { EchoBackend, SeenRequest } from '../helpers/echo-backend';
import { appHeaders, BACKEND_SECRET, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession, TEST_SERVER_SECRET } from '../helpers/local-tokens';
import { BIN, SidecarProcess } from '../helpers/sidecar-process';
import { spawnSync } from 'child_process';

const DELEGATE_TOKEN = 'delegate-token-3f9a1c7e5b2d4086a1c3e5f7';
const OTHER_TOKEN = 'other-delegate-token-8e6c4a2f0d1b3957';
const AGENT_SECRET = 'agent-only-secret-7d2e9b4c1a';

/**
 * Delegates: agents dial out to the sidecar; services with `delegate: NAME` go through
 * them. Real sidecar and agent processes, real backends, all on loopback (the test that
 * proves the sidecar cannot reach the backend at all lives in test/netns/delegate-netns.test.ts).
 */
describe('delegates', () => {
  const env = new Environment();
  const hidden = new EchoBackend();
  const other = new EchoBackend();
  const agents: SidecarProcess[] = [];
  const secretDir = mkdtempSync(join(tmpdir(), 'agent-secrets-'));
  const tokenFile = join(secretDir, '..token');
  const wss = new WebSocketServer({ noServer: true });
  const wsBackend = http.createServer((_req, res) => res.writeHead(404).end());
  let wsPort = 0;
  const session = localSession('admin');
  const headers = {
    cookie: `argocd.token=${session}`,
    ...appHeaders('argocd:guestbook', 'default'),
  };

  const startAgent = (extra: string[] = [], name = 'onprem', token = tokenFile) => {
    const agent = new SidecarProcess(
      [
        '--server',
        env.sidecar.url,
        '--name',
        name,
        '--token-file',
        token,
        '--allow',
        `127.0.0.1:${hidden.port}`,
        '--allow',
        `localhost:${wsPort}`,
        '--secret-dir',
        join(secretDir, 'headers'),
        '--ping-interval',
        '1s',
        '--reconnect-max',
        '1s',
        ...extra,
      ],
      {},
      { command: 'delegate' },
    );
    agents.push(agent);
    return agent.start();
  };
  const connectedAgents = async (): Promise<Array<{ name: string; agent: string }>> => {
    const reply = await request(`${env.sidecar.adminUrl}/delegates`);
    return (reply.json as { delegates: Array<{ name: string; agent: string }> }).delegates;
  };
  const waitConnected = (count: number) =>
    eventually(async () => expect(await connectedAgents()).toHaveLength(count), 15_000);

  beforeAll(async () => {
    await hidden.start();
    await other.start();
    wsBackend.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data) => ws.send(`echo: ${data.toString()}`));
        ws.send(
          `hello ${req.headers['x-agent-secret'] === AGENT_SECRET ? 'with' : 'without'} secret`,
        );
      }),
    );
    await new Promise<void>((resolve) => wsBackend.listen(0, '127.0.0.1', resolve));
    wsPort = (wsBackend.address() as AddressInfo).port;
    writeFileSync(tokenFile, `${DELEGATE_TOKEN}\n`);
    mkdirSync(join(secretDir, 'headers', '127.0.0.1'), { recursive: true });
    writeFileSync(join(secretDir, 'headers', 'X-Agent-Secret'), `${AGENT_SECRET}\n`);
    writeFileSync(join(secretDir, 'headers', '127.0.0.1', 'Authorization'), 'Bearer host-scoped');
    await env.start({
      extraFlags: ['--delegate-ping-interval', '1s'],
      secret: { 'delegate.onprem.token': DELEGATE_TOKEN, 'delegate.other.token': OTHER_TOKEN },
      cm: {
        'extension.config.private': `services:
- url: http://127.0.0.1:${hidden.port}/api
  delegate: onprem
  headers:
  - name: X-From-Sidecar
    value: static
`,
        'extension.config.forbidden': `services:\n- url: http://127.0.0.1:${other.port}/api\n  delegate: onprem\n`,
        'extension.config.lonely': `services:\n- url: http://127.0.0.1:${hidden.port}/api\n  delegate: other\n`,
        'extension.config.slowpriv': `responseTimeout: 1s\nservices:\n- url: http://127.0.0.1:${hidden.port}\n  delegate: onprem\n`,
        'extension.config.wspriv': `services:\n- url: http://localhost:${wsPort}/ws\n  delegate: onprem\n`,
      },
    });
    await startAgent();
    await waitConnected(1);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await env.stop();
    await hidden.stop();
    await other.stop();
    wss.close();
    wsBackend.closeAllConnections();
    wsBackend.close();
    rmSync(secretDir, { recursive: true, force: true });
  });

  it("forwards through the agent with identity headers, sidecar headers and the agent's secrets", async () => {
    const reply = await request(`${env.sidecar.url}/extensions/private/items?x=1`, { headers });
    expect(reply.status).toBe(200);
    const seen = reply.json as unknown as SeenRequest;
    expect(seen.url).toBe('/api/items?x=1');
    expect(seen.headers['argocd-username']).toBe('admin');
    expect(seen.headers['argocd-application-name']).toBe('argocd:guestbook');
    expect(seen.headers['x-from-sidecar']).toBe('static');
    expect(seen.headers['x-agent-secret']).toBe(AGENT_SECRET);
    // Per-host secret header from DIR/127.0.0.1/Authorization.
    expect(seen.headers.authorization).toBe('Bearer host-scoped');
    expect(seen.headers.host).toBe(`127.0.0.1:${hidden.port}`);
    expect(seen.headers.cookie).toBeUndefined();
    for (const name of Object.keys(seen.headers))
      expect(name).not.toMatch(/^argocd-extension-proxy-/);
  });

  it('answers 502 naming the delegate when the agent refuses a host outside its allowlist', async () => {
    const before = other.seen.length;
    const reply = await request(`${env.sidecar.url}/extensions/forbidden/x`, { headers });
    expect(reply.status).toBe(502);
    expect(reply.json).toEqual({
      error: 'delegate onprem is not allowed to reach this backend',
      status: 502,
      delegate: 'onprem',
    });
    expect(other.seen.length).toBe(before);
    await agents[0].waitForLog((l) => l.reason === 'host-not-allowed' && l.port === other.port);
  });

  it('answers 503 naming the delegate when no agent of that name is connected', async () => {
    const reply = await request(`${env.sidecar.url}/extensions/lonely/x`, { headers });
    expect(reply.json).toEqual({
      error: 'delegate other is not connected',
      status: 503,
      delegate: 'other',
    });
  });

  it('still checks the session, RBAC and application before anything reaches the tunnel', async () => {
    const before = hidden.seen.length;
    expect((await request(`${env.sidecar.url}/extensions/private/x`)).status).toBe(401);
    const bob = { ...headers, cookie: `argocd.token=${localSession('bob')}` };
    expect(
      (await request(`${env.sidecar.url}/extensions/private/x`, { headers: bob })).status,
    ).toBe(403);
    expect(hidden.seen.length).toBe(before);
  });

  it('refuses a wrong token, and a token of another delegate name, without a tunnel', async () => {
    const wrong = join(secretDir, '..wrong');
    writeFileSync(wrong, 'not-the-token');
    const stolen = join(secretDir, '..stolen');
    writeFileSync(stolen, OTHER_TOKEN);
    const a = await startAgent([], 'onprem', wrong);
    const b = await startAgent([], 'onprem', stolen);
    for (const agent of [a, b]) {
      await agent.waitForLog(
        (l) => String(l.msg).includes('refused the tunnel') && String(l.msg).includes('401'),
      );
    }
    await env.sidecar.waitForLog((l) => l.msg === 'delegate connection refused');
    expect(await connectedAgents()).toHaveLength(1);
    await Promise.all([a.stop(), b.stop()]);
    const output = [a, b, env.sidecar].map((p) => p.output()).join('\n');
    for (const secret of [OTHER_TOKEN, 'not-the-token', DELEGATE_TOKEN])
      expect(output).not.toContain(secret);
  });

  it('answers 504 when the backend behind the agent does not respond in time, and cancels it', async () => {
    const reply = await request(`${env.sidecar.url}/extensions/slowpriv/hang`, { headers });
    expect(reply.json).toEqual({ error: 'backend did not respond in time', status: 504 });
    await eventually(async () => expect((await hidden.last()).abortedByPeer).toBe(true));
  });

  it('streams large bodies both ways with their bytes intact', async () => {
    const size = 64 * 1024 * 1024;
    const body = Buffer.alloc(size, 7);
    const up = await request(`${env.sidecar.url}/extensions/private/upload`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body,
    });
    const seen = up.json as unknown as SeenRequest;
    expect(seen.bodyBytes).toBe(size);
    expect(seen.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    const down = await new Promise<{ bytes: number; status: number }>((resolve, reject) => {
      http.get(
        `${env.sidecar.url}/extensions/private/download?bytes=${size}`,
        { headers },
        (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', () => resolve({ bytes, status: res.statusCode ?? 0 }));
          res.on('error', reject);
        },
      );
    });
    expect(down).toEqual({ bytes: size, status: 200 });
  });

  it('aborts the backend request when the client gives up mid-upload (never a truncated "complete" body)', async () => {
    const before = hidden.seen.length;
    const req = http.request(`${env.sidecar.url}/extensions/private/partial-upload`, {
      method: 'POST',
      // Chunked: a clean end after a cut would look like a complete, shorter body.
      headers: { ...headers, 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1024 * 1024, 1));
    await eventually(() => expect(hidden.seen.length).toBe(before + 1));
    await eventually(() => expect(hidden.seen[before].bodyBytes).toBeGreaterThan(0));
    req.destroy();
    await eventually(() => expect(hidden.seen[before].abortedByPeer).toBe(true));
    // The body never ended: the backend did not get a request it could act on.
    expect(hidden.seen[before].bodySha256).toBe('');
  });

  it('passes server-sent events through as they come', async () => {
    const events = await new Promise<string[]>((resolve, reject) => {
      http.get(
        `${env.sidecar.url}/extensions/private/events?count=3&everyMs=100`,
        { headers },
        (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          const got: string[] = [];
          res.setEncoding('utf8');
          res.on('data', (d: string) => got.push(d));
          res.on('end', () => resolve(got));
          res.on('error', reject);
        },
      );
    });
    expect(events.join('')).toBe('data: event 1\n\ndata: event 2\n\ndata: event 3\n\n');
    // Arrived as separate writes, not one buffered body.
    expect(events.length).toBeGreaterThanOrEqual(2);
  });

  it('carries WebSockets through the tunnel', async () => {
    const ws = new WebSocket(
      env.sidecar.url.replace('http://', 'ws://') + '/extensions/wspriv/live',
      {
        headers,
      },
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
    expect(messages).toEqual(['hello with secret', 'echo: ping']);
  });

  it('serves 200 concurrent requests over one tunnel', async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        request(`${env.sidecar.url}/extensions/private/c/${i}`, { headers }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(new Set(replies.map((r) => (r.json as unknown as SeenRequest).url)).size).toBe(200);
  });

  it('shares the load between agents of one name and fails over when one dies', async () => {
    const second = await startAgent();
    await waitConnected(2);
    const listed = await connectedAgents();
    expect(new Set(listed.map((d) => d.agent)).size).toBe(2);
    second.signal('SIGKILL');
    await second.waitForExit();
    // The killed agent's tunnel goes at once (FIN/RST) or at the next unanswered ping.
    await waitConnected(1);
    const reply = await request(`${env.sidecar.url}/extensions/private/after`, { headers });
    expect(reply.status).toBe(200);
  });

  it('cuts the response when the agent is killed mid-stream, then the agent reconnects', async () => {
    const first = agents[0];
    const cut = new Promise<{ complete: boolean; bytes: number }>((resolve) => {
      http.get(
        `${env.sidecar.url}/extensions/private/download?bytes=${4 * 1024 ** 3}`,
        { headers },
        (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (bytes > 8 * 1024 * 1024 && first.pid) first.signal('SIGKILL');
          });
          res.on('close', () => resolve({ complete: res.complete, bytes }));
          res.on('error', () => undefined);
        },
      );
    });
    const result = await cut;
    expect(result.complete).toBe(false);
    expect(result.bytes).toBeLessThan(4 * 1024 ** 3);
    await waitConnected(0);
    expect((await request(`${env.sidecar.url}/extensions/private/x`, { headers })).status).toBe(
      503,
    );
    await startAgent();
    await waitConnected(1);
    expect((await request(`${env.sidecar.url}/extensions/private/x`, { headers })).status).toBe(
      200,
    );
  });

  it('reports delegates in /metrics and in the `delegates` command', async () => {
    // Traffic of its own: a request through the tunnel, and an agent refused (wrong token).
    expect(
      (await request(`${env.sidecar.url}/extensions/private/metrics-check`, { headers })).status,
    ).toBe(200);
    const wrong = join(secretDir, '..wrong-for-metrics');
    writeFileSync(wrong, 'not-the-token');
    const refused = await startAgent([], 'onprem', wrong);
    await refused.waitForLog(
      (l) => String(l.msg).includes('refused the tunnel') && String(l.msg).includes('401'),
    );
    await refused.stop();
    const metrics = await request(`${env.sidecar.adminUrl}/metrics`);
    expect(metrics.body).toMatch(/argocd_extension_proxy_delegate_tunnels\{delegate="onprem"\} 1/);
    expect(metrics.body).toMatch(
      /argocd_extension_proxy_delegate_connections_total\{result="rejected"\} [1-9]/,
    );
    expect(metrics.body).toMatch(
      /argocd_extension_proxy_delegate_bytes_total\{delegate="onprem",direction="received"\} [1-9]/,
    );
    const listing = spawnSync(
      process.execPath,
      [BIN, 'delegates', '--admin', env.sidecar.adminUrl],
      {
        encoding: 'utf8',
      },
    );
    expect(listing.status).toBe(0);
    expect(listing.stdout).toMatch(/^NAME\s+AGENT\s+ADDRESS/);
    expect(listing.stdout).toMatch(/\nonprem\s+\S+\/\d+\s+127\.0\.0\.1/);
    const ready = await request(`${env.sidecar.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('closes tunnels whose token was rotated away; the agent gets in again with the new one', async () => {
    const rotated = 'rotated-delegate-token-0b1c2d3e4f5a6978';
    await waitConnected(1);
    env.config.secret.update({
      'server.secretkey': TEST_SERVER_SECRET,
      'anomaly.token': BACKEND_SECRET,
      'delegate.other.token': OTHER_TOKEN,
      'delegate.onprem.token': rotated,
    });
    await env.sidecar.waitForLog(
      (l) => l.msg === 'closing delegate tunnel: its token is no longer valid',
    );
    await waitConnected(0);
    writeFileSync(tokenFile, rotated);
    await waitConnected(1);
    expect((await request(`${env.sidecar.url}/extensions/private/x`, { headers })).status).toBe(
      200,
    );
    const output = [...agents.map((a) => a.output()), env.sidecar.output()].join('\n');
    for (const secret of [rotated, DELEGATE_TOKEN, AGENT_SECRET, BACKEND_SECRET]) {
      expect(output).not.toContain(secret);
    }
  });

  it('reconnects after the sidecar restarts', async () => {
    const port = Number(new URL(env.sidecar.url).port);
    await env.sidecar.stop();
    const restarted = new SidecarProcess(
      [...env.config.flags, ...env.argocd.sidecarFlags(), '--delegate-ping-interval', '1s'],
      {},
      { listen: `127.0.0.1:${port}` },
    );
    await restarted.start();
    env.sidecar = restarted;
    await waitConnected(1);
    expect((await request(`${env.sidecar.url}/extensions/private/x`, { headers })).status).toBe(
      200,
    );
  });
});
