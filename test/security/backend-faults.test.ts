import http from 'http';
import net, { AddressInfo } from 'net';
import { appHeaders, BACKEND_SECRET, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession, TEST_SERVER_SECRET } from '../helpers/local-tokens';

/**
 * Backends that break the protocol: malformed responses, oversized headers, endless bodies,
 * resets mid-body. The sidecar answers each correctly (502, or a cut response) and keeps
 * serving everything else. Prints cases tried / rejected as expected / leaks.
 */
describe('misbehaving backends', () => {
  const env = new Environment();
  const token = localSession('admin');
  const tally = { tried: 0, rejected: 0, leaks: 0 };
  const headers = {
    cookie: `argocd.token=${token}`,
    ...appHeaders('argocd:guestbook', 'default'),
  };
  let endlessClosed = 0;
  // Raw TCP: answers whatever the path asks for, HTTP or not.
  const raw = net.createServer((socket) => {
    socket.once('data', (d: Buffer) => {
      const path = d.toString('latin1').split(' ')[1] ?? '';
      socket.on('error', () => undefined);
      if (path.endsWith('/malformed')) return void socket.end('HELLO THERE\r\n\r\n');
      if (path.endsWith('/huge-headers')) {
        return void socket.end(
          `HTTP/1.1 200 OK\r\nX-Huge: ${'a'.repeat(200_000)}\r\ncontent-length: 2\r\n\r\nok`,
        );
      }
      if (path.endsWith('/bad-length')) {
        return void socket.end('HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\nok');
      }
      if (path.endsWith('/reset-mid-body')) {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n' + 'x'.repeat(1000));
        return void setTimeout(() => socket.resetAndDestroy(), 20);
      }
      if (path.endsWith('/endless')) {
        socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
        const chunk = `4000\r\n${'e'.repeat(0x4000)}\r\n`;
        const pump = () => {
          while (!socket.destroyed && socket.write(chunk));
          if (!socket.destroyed) socket.once('drain', pump);
        };
        socket.once('close', () => endlessClosed++);
        return pump();
      }
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
  });

  beforeAll(async () => {
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const port = (raw.address() as AddressInfo).port;
    await env.start({
      cm: { 'extension.config.broken': `services:\n- url: http://127.0.0.1:${port}\n` },
    });
  });
  afterAll(async () => {
    process.stdout.write(
      `security/backends: ${tally.tried} cases tried, ${tally.rejected} rejected as expected, ${tally.leaks} leaks\n`,
    );
    await env.stop();
    raw.close();
  });

  const healthy = async () => {
    expect((await request(`${env.sidecar.url}/extensions/anomaly/ok`, { headers })).status).toBe(
      200,
    );
    expect((await request(`${env.sidecar.adminUrl}/readyz`)).status).toBe(200);
  };

  it.each(['malformed', 'huge-headers', 'bad-length'])(
    'answers 502 to a %s response',
    async (path) => {
      tally.tried++;
      const reply = await request(`${env.sidecar.url}/extensions/broken/${path}`, { headers });
      if ([token, TEST_SERVER_SECRET, BACKEND_SECRET].some((s) => reply.body.includes(s))) {
        tally.leaks++;
      }
      expect(reply.json).toEqual({ error: 'backend is unreachable or failed', status: 502 });
      tally.rejected++;
      await healthy();
    },
  );

  it('cuts the client response when the backend resets mid-body', async () => {
    tally.tried++;
    const result = await new Promise<{ status: number; complete: boolean }>((resolve) => {
      http.get(`${env.sidecar.url}/extensions/broken/reset-mid-body`, { headers }, (res) => {
        res.resume();
        res.on('close', () => resolve({ status: res.statusCode ?? 0, complete: res.complete }));
        res.on('error', () => undefined);
      });
    });
    expect(result).toEqual({ status: 200, complete: false });
    tally.rejected++;
    await healthy();
  });

  it('streams an endless response with backpressure and closes it when the client leaves', async () => {
    tally.tried++;
    const received = await new Promise<number>((resolve) => {
      http.get(`${env.sidecar.url}/extensions/broken/endless`, { headers }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (bytes > 32 * 1024 * 1024) res.destroy();
        });
        res.on('close', () => resolve(bytes));
        res.on('error', () => undefined);
      });
    });
    expect(received).toBeGreaterThan(32 * 1024 * 1024);
    await eventually(() => expect(endlessClosed).toBe(1));
    tally.rejected++;
    await healthy();
  });

  it('leaked no secret in any response or log line', async () => {
    // A broken backend of its own, asked with the session token; its access log line is
    // written once the response has ended.
    tally.tried++;
    const reply = await request(`${env.sidecar.url}/extensions/broken/leak-check/malformed`, {
      headers,
    });
    expect(reply.json).toEqual({ error: 'backend is unreachable or failed', status: 502 });
    if ([token, TEST_SERVER_SECRET, BACKEND_SECRET].some((s) => reply.body.includes(s))) {
      tally.leaks++;
    }
    tally.rejected++;
    await env.sidecar.waitForLog(
      (l) => l.path === '/extensions/broken/leak-check/malformed' && l.status === 502,
    );
    const output = env.sidecar.output();
    for (const secret of [token, TEST_SERVER_SECRET, BACKEND_SECRET]) {
      if (output.includes(secret)) tally.leaks++;
    }
    expect(tally.leaks).toBe(0);
    expect(tally.rejected).toBe(tally.tried);
  });
});
