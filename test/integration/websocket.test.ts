import http from 'http';
import net, { AddressInfo } from 'net';
import WebSocket, { WebSocketServer } from 'ws';
import { appHeaders, BACKEND_SECRET, Environment } from '../helpers/environment';
import { eventually, rawRequest, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';

/** WebSocket upgrades get the same checks as any request, then bytes flow both ways. */
describe('WebSocket through the sidecar', () => {
  const env = new Environment();
  const server = http.createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain', 'set-cookie': 'argocd.token=evil' });
    res.end('no such socket');
  });
  const wss = new WebSocketServer({ noServer: true });
  const upgrades: http.IncomingMessage[] = [];
  const backendClosed: number[] = [];
  let backendPort = 0;

  beforeAll(async () => {
    server.on('upgrade', (req, socket, head) => {
      upgrades.push(req);
      if (!(req.url ?? '').startsWith('/ws/live')) {
        socket.end(
          'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nset-cookie: argocd.token=evil\r\n\r\n',
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data) => ws.send(`echo: ${data.toString()}`));
        ws.on('close', (code) => backendClosed.push(code));
        ws.send('hello from backend');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    backendPort = (server.address() as AddressInfo).port;
    await env.start({
      cm: {
        'extension.config.live': `services:\n- url: http://127.0.0.1:${backendPort}/ws\n  headers:\n  - name: Authorization\n    value: $anomaly.token\n`,
        'extension.config.down': 'services:\n- url: http://127.0.0.1:1/ws\n',
      },
      policy: 'p, alice, extensions, invoke, *, allow',
    });
  });
  afterAll(async () => {
    await env.stop();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const wsUrl = (path: string) => env.sidecar.url.replace('http://', 'ws://') + path;
  const connect = (path: string, token: string | undefined) =>
    new WebSocket(wsUrl(path), {
      headers: {
        ...(token ? { cookie: `argocd.token=${token}` } : {}),
        ...appHeaders('argocd:guestbook', 'default'),
        'Argocd-Username': 'admin',
      },
    });

  /** The status and JSON body of a refused upgrade. */
  const refusal = (ws: WebSocket) =>
    new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>(
      (resolve, reject) => {
        ws.on('open', () => reject(new Error('upgrade unexpectedly accepted')));
        ws.on('error', () => undefined);
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        });
      },
    );

  it('passes messages both ways and tells the backend who is calling', async () => {
    const ws = connect('/extensions/live/live?stream=1', localSession('alice'));
    const messages: string[] = [];
    ws.on('message', (data) => messages.push(data.toString()));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('ping');
    await eventually(() => expect(messages).toEqual(['hello from backend', 'echo: ping']));
    const seen = upgrades[upgrades.length - 1];
    expect(seen.url).toBe('/ws/live?stream=1');
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers.authorization).toBe(BACKEND_SECRET);
    expect(seen.headers['argocd-username']).toBe('alice');
    expect(seen.headers['argocd-application-name']).toBe('argocd:guestbook');
    expect(seen.headers.upgrade).toBe('websocket');
    ws.close(1000);
    await eventually(() => expect(backendClosed).toContain(1000));
  });

  it('refuses an upgrade without a session with a JSON 401', async () => {
    const before = upgrades.length;
    const reply = await refusal(connect('/extensions/live/live', undefined));
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body)).toEqual({ error: 'no session token', status: 401 });
    expect(upgrades.length).toBe(before);
  });

  it('refuses an upgrade the policy does not allow, naming the permission', async () => {
    const reply = await refusal(connect('/extensions/live/live', localSession('bob')));
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body).requiredPermission).toBe('extensions, invoke, live');
  });

  it("passes the backend's own refusal through, without its Set-Cookie", async () => {
    const reply = await refusal(connect('/extensions/live/other', localSession('alice')));
    expect(reply.status).toBe(404);
    expect(reply.headers['set-cookie']).toBeUndefined();
  });

  it('answers 502 when the backend is unreachable', async () => {
    const reply = await refusal(connect('/extensions/down/x', localSession('alice')));
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toEqual({
      error: 'backend is unreachable or failed',
      status: 502,
    });
  });

  it('refuses upgrades to anything but WebSocket', async () => {
    const port = Number(new URL(env.sidecar.url).port);
    const reply = await rawRequest(
      port,
      `GET /extensions/live/live HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n` +
        `Cookie: argocd.token=${localSession('alice')}\r\nArgocd-Application-Name: argocd:guestbook\r\nArgocd-Project-Name: default\r\n\r\n`,
    );
    expect(reply.status).toBe(400);
    expect(reply.raw).toContain('only WebSocket upgrades are supported');
  });

  it('refuses a WebSocket upgrade that is not a GET', async () => {
    const port = Number(new URL(env.sidecar.url).port);
    const reply = await rawRequest(
      port,
      `POST /extensions/live/live HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Cookie: argocd.token=${localSession('alice')}\r\nArgocd-Application-Name: argocd:guestbook\r\nArgocd-Project-Name: default\r\n\r\n`,
    );
    expect(reply.status).toBe(400);
    expect(reply.raw).toContain('a WebSocket upgrade must be a GET request');
  });

  it.each([
    ['while it is refused (no session)', 'refused', false],
    ['while the application check is pending', 'pending', true],
  ])('survives a client resetting an upgrade %s', async (_case, id, withSession) => {
    env.argocd.delayMs = 300;
    try {
      const port = Number(new URL(env.sidecar.url).port);
      const session = withSession ? localSession('alice') : undefined;
      const token = session ? `Cookie: argocd.token=${session}\r\n` : '';
      const paths = [1, 2, 3, 4, 5].map((i) => `/extensions/live/reset-${id}-${i}`);
      for (const path of paths) {
        const socket = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${token}` +
            `Argocd-Application-Name: argocd:guestbook\r\nArgocd-Project-Name: default\r\n\r\n`,
        );
        socket.resetAndDestroy();
      }
      // The sidecar writes an upgrade's access log line when its socket has closed: it has
      // seen each reset through.
      for (const path of paths) await env.sidecar.waitForLog((l) => l.path === path);
      if (session) {
        // A request with the same session and application waits for the same application
        // check as the resets (Argo CD answers after 300 ms): once it is answered, the
        // sidecar has gone on with the upgrades whose client went away.
        const after = await request(`${env.sidecar.url}/extensions/anomaly/after-resets`, {
          headers: {
            cookie: `argocd.token=${session}`,
            ...appHeaders('argocd:guestbook', 'default'),
          },
        });
        expect(after.status).toBe(200);
      }
      const health = await request(env.sidecar.adminUrl + '/healthz');
      expect(health.status).toBe(200);
    } finally {
      env.argocd.delayMs = 0;
    }
  });

  it('closes the client side when the backend goes away', async () => {
    const ws = connect('/extensions/live/live', localSession('alice'));
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    for (const client of wss.clients) client.terminate();
    await closed;
  });
});
