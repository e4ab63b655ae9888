import http from 'http';
import { Blackhole } from '../helpers/blackhole';
import { EchoBackend } from '../helpers/echo-backend';
import { appHeaders, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';
import { freePort, peakRssMiB } from '../helpers/processes';
import { makeTlsFixtures } from '../helpers/tls-fixtures';

/** Timeouts, failures, aborts, streaming and backend TLS through the real sidecar. */
describe('forwarding to backends', () => {
  const env = new Environment();
  const blackhole = new Blackhole();
  const tls = makeTlsFixtures();
  const tlsBackend = new EchoBackend({
    cert: tls.serverCert,
    key: tls.serverKey,
    ca: tls.caCert,
    requestCert: true,
    rejectUnauthorized: true,
  });
  let closedPort = 0;
  const token = localSession('admin');
  const headers = { cookie: `argocd.token=${token}`, ...appHeaders('argocd:guestbook', 'default') };

  beforeAll(async () => {
    await blackhole.start();
    await tlsBackend.start();
    closedPort = await freePort();
    const indent = (pem: string) => pem.trim().split('\n').join('\n      ');
    await env.start({
      secret: { 'backend.tls.key': tls.clientKey },
      cm: (started) => ({
        'extension.config.slow': `responseTimeout: 1s\nservices:\n- url: ${started.backend.url}\n`,
        'extension.config.refused': `services:\n- url: http://127.0.0.1:${closedPort}\n`,
        'extension.config.blackhole': `connectionTimeout: 500ms\nservices:\n- url: http://127.0.0.1:${blackhole.port}\n`,
        'extension.config.mtls': `services:
- url: https://127.0.0.1:${tlsBackend.port}/secure
  tls:
    serverName: backend.internal
    key: $backend.tls.key
    ca: |
      ${indent(tls.caCert)}
    cert: |
      ${indent(tls.clientCert)}
`,
        'extension.config.wrongname': `services:
- url: https://127.0.0.1:${tlsBackend.port}
  tls:
    key: $backend.tls.key
    ca: |
      ${indent(tls.caCert)}
    cert: |
      ${indent(tls.clientCert)}
`,
        'extension.config.untrusted': `services:\n- url: https://127.0.0.1:${tlsBackend.port}\n`,
      }),
    });
  });
  afterAll(async () => {
    await env.stop();
    await tlsBackend.stop();
    blackhole.stop();
  });

  it('answers 504 when the backend does not respond in time, and closes the backend request', async () => {
    const started = Date.now();
    const reply = await request(`${env.sidecar.url}/extensions/slow/hang`, { headers });
    expect(reply.json).toEqual({ error: 'backend did not respond in time', status: 504 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await eventually(async () => expect((await env.backend.last()).abortedByPeer).toBe(true));
  });

  it('counts the response timeout from the end of the upload, not its start', async () => {
    // `slow` has responseTimeout 1s; this upload takes about 2.5 s.
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${env.sidecar.url}/extensions/slow/upload`,
        { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, agent: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const timer = setInterval(() => {
        req.write('x'.repeat(1000));
        if (++sent === 5) {
          clearInterval(timer);
          req.end();
        }
      }, 500);
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).bodyBytes).toBe(5000);
  });

  it('answers 502 when the backend refuses the connection', async () => {
    const reply = await request(`${env.sidecar.url}/extensions/refused/`, { headers });
    expect(reply.json).toEqual({ error: 'backend is unreachable or failed', status: 502 });
  });

  it('answers 502 when the backend resets the connection', async () => {
    const reply = await request(`${env.sidecar.url}/extensions/slow/reset`, { headers });
    expect(reply.json).toEqual({ error: 'backend is unreachable or failed', status: 502 });
  });

  it('answers 504 when the connection is not established within connectionTimeout', async () => {
    const started = Date.now();
    const reply = await request(`${env.sidecar.url}/extensions/blackhole/`, { headers });
    expect(reply.json).toEqual({
      error: 'backend did not accept the connection in time',
      status: 504,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('cancels the backend request when the client goes away', async () => {
    const before = env.backend.seen.length;
    const req = http.request(`${env.sidecar.url}/extensions/anomaly/hang`, {
      headers,
      agent: false,
    });
    req.on('error', () => undefined);
    req.end();
    await eventually(() => expect(env.backend.seen.length).toBe(before + 1));
    req.destroy();
    // Well before the 2 s response timeout of this extension.
    await eventually(() => expect(env.backend.seen[before].abortedByPeer).toBe(true), 1000);
  });

  it('streams 256 MiB each way without buffering it', async () => {
    const upload = (bytes: number) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = http.request(
          `${env.sidecar.url}/extensions/anomaly/upload`,
          {
            method: 'PUT',
            headers: { ...headers, 'content-type': 'application/octet-stream' },
            agent: false,
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
          },
        );
        req.on('error', reject);
        // A generated stream: the test never holds the body in memory either.
        const chunk = Buffer.alloc(1024 * 1024, 0x62);
        let sent = 0;
        const pump = () => {
          while (sent < bytes) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
    const download = (bytes: number) =>
      new Promise<number>((resolve, reject) => {
        http
          .get(
            `${env.sidecar.url}/extensions/anomaly/download?bytes=${bytes}`,
            { headers, agent: false },
            (res) => {
              let received = 0;
              res.on('data', (d: Buffer) => (received += d.length));
              res.on('end', () => resolve(received));
            },
          )
          .on('error', reject);
      });
    // Warm up first: the first megabytes grow the heap and buffer pools once (more on
    // newer Node versions), whatever the body size.
    await upload(32 * 1024 * 1024);
    await download(32 * 1024 * 1024);
    const rssBefore = peakRssMiB([env.sidecar.pid]);
    const size = 256 * 1024 * 1024;
    expect((await upload(size)).bodyBytes).toBe(size);
    expect(await download(size)).toBe(size);
    const growth = peakRssMiB([env.sidecar.pid]) - rssBefore;
    // Buffering either body would add 256 MiB; streaming stays within socket buffers.
    expect(growth).toBeLessThan(64);
  });

  it('delivers server-sent events as they happen, not when the response ends', async () => {
    const arrivals: { at: number; text: string }[] = [];
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      http
        .get(
          `${env.sidecar.url}/extensions/anomaly/events?count=3&everyMs=300`,
          { headers, agent: false },
          (res) => {
            expect(res.headers['content-type']).toBe('text/event-stream');
            res.setEncoding('utf8');
            res.on('data', (text: string) => arrivals.push({ at: Date.now() - started, text }));
            res.on('end', resolve);
          },
        )
        .on('error', reject);
    });
    expect(arrivals.map((a) => a.text).join('')).toBe(
      'data: event 1\n\ndata: event 2\n\ndata: event 3\n\n',
    );
    // The first event arrives well before the last one is even sent.
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals[arrivals.length - 1].at - arrivals[0].at).toBeGreaterThanOrEqual(400);
  });

  it('connects to a TLS backend with its CA, a client certificate and a server name', async () => {
    const reply = await request(`${env.sidecar.url}/extensions/mtls/x`, { headers });
    expect(reply.status).toBe(200);
    expect(reply.json.url).toBe('/secure/x');
  });

  it.each([
    ['the certificate does not name the host', 'wrongname'],
    ['the certificate is not from a trusted CA', 'untrusted'],
  ])('answers 502 when %s', async (_case, extension) => {
    const reply = await request(`${env.sidecar.url}/extensions/${extension}/`, { headers });
    expect(reply.json).toEqual({ error: 'backend is unreachable or failed', status: 502 });
  });

  it('logs the cause of backend failures, without secrets', async () => {
    const reply = await request(`${env.sidecar.url}/extensions/untrusted/log-check`, { headers });
    expect(reply.status).toBe(502);
    // Written once the response has ended.
    const line = await env.sidecar.waitForLog(
      (l) => l.path === '/extensions/untrusted/log-check' && l.status === 502,
    );
    expect(line).toMatchObject({
      level: 'error',
      msg: 'extension request failed',
      stage: 'forward',
      error:
        'backend is unreachable or failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)',
    });
    expect(env.sidecar.output()).not.toContain(tls.clientKey.split('\n')[1]);
  });
});
