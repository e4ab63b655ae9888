import http from 'http';
import net from 'net';
import { SeenRequest } from '../helpers/echo-backend';
import { appHeaders, BACKEND_SECRET, Environment } from '../helpers/environment';
import { eventually, rawRequest, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';

/**
 * Hostile requests against the real sidecar: smuggling framings, spoofed identity and
 * forwarding headers, Host tricks, oversized URLs, slow clients, cross-origin requests, and
 * a backend trying to open the origin with CORS. Prints cases tried / rejected / leaks.
 */
describe('hostile requests', () => {
  const env = new Environment();
  const token = localSession('admin');
  const cookie = `argocd.token=${token}`;
  const headers = { cookie, ...appHeaders('argocd:guestbook', 'default') };
  let port = 0;
  const tally = { tried: 0, rejected: 0, leaks: 0 };
  const raw = async (text: string) => {
    tally.tried++;
    const reply = await rawRequest(port, text);
    // The session token must never come back (the echo backend would show it if it had
    // been forwarded); the backend's own credential may appear only in what the echo
    // backend reflects (200), never in an answer the sidecar wrote itself.
    if (reply.raw.includes(token) || (reply.status !== 200 && reply.raw.includes(BACKEND_SECRET))) {
      tally.leaks++;
    }
    return reply;
  };
  const base = (path: string, extra: string) =>
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n` +
    'Argocd-Application-Name: argocd:guestbook\r\nArgocd-Project-Name: default\r\n' +
    `${extra}Connection: close\r\n\r\n`;

  beforeAll(async () => {
    await env.start({ extraFlags: ['--header-timeout', '1s', '--body-idle-timeout', '1s'] });
    port = Number(new URL(env.sidecar.url).port);
  });
  afterAll(async () => {
    process.stdout.write(
      `security/requests: ${tally.tried} cases tried, ${tally.rejected} rejected as expected, ${tally.leaks} leaks\n`,
    );
    await env.stop();
  });

  it.each([
    [
      'Content-Length and Transfer-Encoding together',
      'POST /extensions/anomaly/x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n',
    ],
    [
      'two different Content-Lengths',
      'POST /extensions/anomaly/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 30\r\n\r\nx',
    ],
    [
      'an obs-folded header line',
      'GET /extensions/anomaly/x HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n  b\r\n\r\n',
    ],
    [
      'a space before the colon',
      'GET /extensions/anomaly/x HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello',
    ],
    ['a bare LF request line', 'GET /extensions/anomaly/x HTTP/1.1\nHost: a\n\n'],
  ])('refuses a smuggling framing: %s', async (_name, text) => {
    const before = env.backend.seen.length;
    const reply = await raw(text);
    expect(reply.status).toBe(400);
    tally.rejected++;
    expect(env.backend.seen.length).toBe(before);
    expect(env.backend.seen.some((r) => r.url.includes('smuggled'))).toBe(false);
  });

  it('replaces spoofed Argocd-* and X-Forwarded-* headers with its own', async () => {
    tally.tried++;
    const reply = await request(`${env.sidecar.url}/extensions/anomaly/who`, {
      headers: {
        ...headers,
        'Argocd-Username': 'root',
        'Argocd-User-Groups': 'admins',
        'Argocd-Target-Cluster-URL': 'https://evil',
        'X-Forwarded-For': '10.0.0.1',
        'X-Forwarded-Host': 'evil.example',
        'X-Real-IP': '10.0.0.1',
        Forwarded: 'for=10.0.0.1',
      },
    });
    const seen = reply.json as unknown as SeenRequest;
    expect(seen.headers['argocd-username']).toBe('admin');
    expect(seen.headers['argocd-user-groups']).toBeUndefined();
    expect(seen.headers['argocd-target-cluster-url']).toBe('https://kubernetes.default.svc');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).not.toBe('evil.example');
    expect(seen.headers['x-real-ip']).toBeUndefined();
    expect(seen.headers.forwarded).toBeUndefined();
    tally.rejected++;
  });

  it('sends the service host, not a Host or absolute-form target the client chose', async () => {
    const before = env.backend.seen.length;
    tally.tried++;
    const reply = await rawRequest(
      port,
      base('http://evil.example/extensions/anomaly/abs', 'X-Ignore: 1\r\n').replace(
        'Host: 127.0.0.1',
        'Host: evil.example',
      ),
    );
    if (reply.status === 200) {
      const seen = env.backend.seen[before];
      expect(seen.headers.host).toBe(new URL(env.backend.url).host);
      expect(seen.url).toBe('/api/abs');
    } else expect(reply.status).toBe(400);
    tally.rejected++;
  });

  it('answers an oversized URL with 431 or 414 and forwards nothing', async () => {
    const before = env.backend.seen.length;
    const reply = await raw(base(`/extensions/anomaly/${'a'.repeat(120_000)}`, ''));
    expect([414, 431]).toContain(reply.status);
    expect(env.backend.seen.length).toBe(before);
    tally.rejected++;
  });

  it('cuts a client that sends its headers too slowly (slowloris)', async () => {
    tally.tried++;
    const closed = await new Promise<{ afterMs: number; raw: string }>((resolve) => {
      const started = Date.now();
      const socket = net.connect(port, '127.0.0.1');
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (raw += d));
      socket.write('GET /extensions/anomaly/x HTTP/1.1\r\nHost: a\r\n');
      const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 200);
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ afterMs: Date.now() - started, raw });
      });
      socket.on('error', () => undefined);
    });
    // --header-timeout 1s (checked every second): cut well before a slow client finishes.
    expect(closed.afterMs).toBeLessThan(10_000);
    expect(closed.raw === '' || closed.raw.startsWith('HTTP/1.1 408')).toBe(true);
    tally.rejected++;
  });

  it('cuts a client that trickles its request body (slow-body slowloris) after the body idle timeout', async () => {
    tally.tried++;
    const before = env.backend.seen.length;
    const closed = await new Promise<{ afterMs: number }>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        'POST /extensions/anomaly/upload HTTP/1.1\r\nHost: a\r\n' +
          `Cookie: ${cookie}\r\nArgocd-Application-Name: argocd:guestbook\r\n` +
          'Argocd-Project-Name: default\r\nContent-Length: 1000\r\n\r\n' +
          'x'.repeat(10),
      );
      const started = Date.now();
      socket.on('close', () => resolve({ afterMs: Date.now() - started }));
    });
    // --body-idle-timeout 1s here: cut soon after the body stopped, not held forever.
    expect(closed.afterMs).toBeLessThan(10_000);
    await eventually(() => expect(env.backend.seen[before]?.abortedByPeer).toBe(true));
    tally.rejected++;
  });

  it('never cuts an upload that keeps sending, however long it takes', async () => {
    tally.tried++;
    const reply = await new Promise<{ status: number }>((resolve, reject) => {
      const req = http.request(
        `${env.sidecar.url}/extensions/anomaly/slow-upload`,
        { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const timer = setInterval(() => {
        req.write('chunk');
        if (++sent === 8) {
          clearInterval(timer);
          req.end();
        }
      }, 300); // 2.4 s in all, more than the 1 s idle timeout, never idle for 1 s
    });
    expect(reply.status).toBe(200);
    tally.rejected++;
  });

  it('gives a cross-origin preflight nothing to work with (no CORS headers, no forwarding)', async () => {
    const before = env.backend.seen.length;
    tally.tried++;
    const preflight = await request(`${env.sidecar.url}/extensions/anomaly/x`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://evil.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'argocd-application-name,argocd-project-name',
      },
    });
    expect(preflight.status).toBe(401);
    expect(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-'))).toEqual(
      [],
    );
    expect(env.backend.seen.length).toBe(before);
    tally.rejected++;
  });

  it("drops a backend's CORS and cookie headers, so it cannot open the UI's origin", async () => {
    const corsy = http.createServer((_req, res) => {
      res.writeHead(200, {
        'Access-Control-Allow-Origin': 'https://evil.example',
        'Access-Control-Allow-Credentials': 'true',
        'Set-Cookie': 'argocd.token=evil',
        'content-type': 'text/plain',
      });
      res.end('ok');
    });
    await new Promise<void>((r) => corsy.listen(0, '127.0.0.1', r));
    try {
      const corsPort = (corsy.address() as net.AddressInfo).port;
      env.config.cm.update({
        'extension.config.corsy': `services:\n- url: http://127.0.0.1:${corsPort}\n`,
        'extension.config': (await import('../helpers/environment')).extensionConfig(
          env.backend.url,
          env.secondBackend.url,
        ),
      });
      await env.sidecar.waitForLog(
        (l) => l.msg === 'configuration loaded' && (l.extensions as string[]).includes('corsy'),
      );
      tally.tried++;
      const reply = await request(`${env.sidecar.url}/extensions/corsy/x`, {
        headers: { ...headers, Origin: 'https://evil.example' },
      });
      expect(reply.body).toBe('ok');
      expect(
        Object.keys(reply.headers).filter((h) => /^access-control-|^set-cookie$/.test(h)),
      ).toEqual([]);
      tally.rejected++;
    } finally {
      corsy.closeAllConnections();
      corsy.close();
    }
  });

  it('never redirects: a path that is not an extension gets a JSON error, not a Location', async () => {
    for (const path of [
      '/extensions/anomaly',
      '/extensions/',
      '/extensions/anomaly/../x',
      '//evil.example/',
    ]) {
      const reply = await raw(base(path, ''));
      tally.rejected++;
      expect(reply.status).not.toBe(301);
      expect(reply.status).not.toBe(302);
      expect(reply.raw.toLowerCase()).not.toContain('\r\nlocation:');
    }
  });

  it('leaked nothing in any response or log line', async () => {
    // Its own requests first, each with the session token: one forwarded (the backend echoes
    // what it received), and answers the sidecar writes itself (404, 403).
    const leakCheck = (path: string, project = 'default') =>
      base(path, '').replace('Argocd-Project-Name: default', `Argocd-Project-Name: ${project}`);
    for (const [path, project, status] of [
      ['/extensions/anomaly/leak-check', 'default', 200],
      ['/extensions/nonexistent/leak-check', 'default', 404],
      ['/extensions/anomaly/leak-check', 'team-a', 403],
    ] as const) {
      expect((await raw(leakCheck(path, project))).status).toBe(status);
      tally.rejected++;
      // The access log line is written once the response has ended.
      await env.sidecar.waitForLog((l) => l.path === path && l.status === status);
    }
    expect(tally.leaks).toBe(0);
    const output = env.sidecar.output();
    expect(output).not.toContain(token);
    expect(output).not.toContain(BACKEND_SECRET);
  });
});
