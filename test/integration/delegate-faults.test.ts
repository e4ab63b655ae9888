import { readdirSync } from 'fs';
import http from 'http';
import net from 'net';
import { Duplex } from 'stream';
import { appHeaders, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';
import {
  TunnelSession,
  TunnelStream,
} from '../../proxy-server/src/delegate/protocol/tunnel-session';

const TOKEN = 'hostile-delegate-token-6e5d4c3b2a190817';

/**
 * A compromised or broken agent: it holds a valid token, so it gets a tunnel, then answers
 * with whatever it likes. The sidecar must answer each request correctly (an error, never
 * a forged cookie or a crash) and keep serving everything else.
 */
describe('a hostile delegate agent', () => {
  const env = new Environment();
  const headers = {
    cookie: `argocd.token=${localSession('admin')}`,
    ...appHeaders('argocd:guestbook', 'default'),
  };
  const sockets: Duplex[] = [];

  /** Connects like an agent, then lets `onStream` answer every stream. */
  const connectFakeAgent = (
    onStream: (stream: TunnelStream, path: string) => void,
    afterUpgrade?: (socket: Duplex) => boolean,
  ) =>
    new Promise<void>((resolve, reject) => {
      const port = Number(new URL(env.sidecar.url).port);
      const req = http.request({
        host: '127.0.0.1',
        port,
        path: '/extensions/.delegate/connect',
        headers: {
          connection: 'Upgrade',
          upgrade: 'argocd-extension-proxy-delegate/2',
          authorization: `Bearer ${TOKEN}`,
          'argocd-extension-proxy-delegate': 'hostile',
        },
      });
      req.once('upgrade', (_res, socket: net.Socket, head) => {
        sockets.push(socket);
        if (head.length > 0) socket.unshift(head);
        if (afterUpgrade?.(socket)) return resolve();
        new TunnelSession(socket, {
          role: 'server',
          onStream: (stream, h) => onStream(stream, String(h[':path'])),
        });
        resolve();
      });
      req.once('response', (res) => reject(new Error(`refused: ${res.statusCode}`)));
      req.once('error', reject);
      req.end();
    });
  const healthy = async () => {
    expect(
      (await request(`${env.sidecar.url}/extensions/anomaly/still-ok`, { headers })).status,
    ).toBe(200);
    expect((await request(`${env.sidecar.adminUrl}/readyz`)).status).toBe(200);
  };
  const waitTunnels = (n: number) =>
    eventually(async () => {
      const list = await request(`${env.sidecar.adminUrl}/delegates`);
      expect((list.json as { delegates: unknown[] }).delegates).toHaveLength(n);
    });

  beforeAll(async () => {
    await env.start({
      extraFlags: ['--delegate-ping-interval', '1s'],
      secret: { 'delegate.hostile.token': TOKEN },
      cm: {
        'extension.config.hostile': `responseTimeout: 2s\nservices:\n- url: http://inside.internal:8080/api\n  delegate: hostile\n`,
      },
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await env.stop();
  });

  it('never lets the agent set cookies or control headers on the client', async () => {
    await connectFakeAgent((stream) => {
      stream.sendHeaders({
        ':status': '200',
        'set-cookie': 'argocd.token=forged; Path=/',
        'argocd-extension-proxy-upgraded': '101',
        'content-type': 'text/plain',
      });
      stream.write(Buffer.from('hello'), true);
    });
    await waitTunnels(1);
    const reply = await request(`${env.sidecar.url}/extensions/hostile/x`, { headers });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('hello');
    expect(reply.headers['set-cookie']).toBeUndefined();
    expect(
      Object.keys(reply.headers).filter((n) => n.startsWith('argocd-extension-proxy')),
    ).toEqual([]);
    await healthy();
  });

  it('answers 502 for a reset stream, oversized headers and a cut body, and stays healthy', async () => {
    for (const socket of sockets) socket.destroy();
    await waitTunnels(0);
    await connectFakeAgent((stream, path) => {
      if (path.endsWith('/reset')) return stream.reset();
      if (path.endsWith('/crlf'))
        return stream.sendHeaders({ ':status': '200', 'x-a': 'a\r\nSet-Cookie: forged=1' }, true);
      if (path.endsWith('/bad-status')) return stream.sendHeaders({ ':status': 'abc' }, true);
      if (path.endsWith('/huge'))
        return stream.sendHeaders({ ':status': '200', 'x-huge': 'a'.repeat(200_000) });
      if (path.endsWith('/cut') || path.endsWith('/cut-chunked')) {
        const length: Record<string, string> = path.endsWith('/cut')
          ? { 'content-length': '100000' }
          : {};
        stream.sendHeaders({ ':status': '200', ...length });
        stream.write(Buffer.alloc(1000));
        setTimeout(() => stream.reset(), 50);
        return;
      }
      // Never answers: the response timeout applies.
    });
    await waitTunnels(1);
    const reset = await request(`${env.sidecar.url}/extensions/hostile/reset`, { headers });
    expect(reset.json).toEqual({ error: 'delegate hostile failed', status: 502 });
    // With a Content-Length, and without one (chunked: where a clean end would look complete).
    for (const path of ['cut', 'cut-chunked']) {
      const cut = await new Promise<{ complete: boolean; status: number }>((resolve) => {
        http.get(`${env.sidecar.url}/extensions/hostile/${path}`, { headers }, (res) => {
          res.resume();
          res.on('close', () => resolve({ complete: res.complete, status: res.statusCode ?? 0 }));
          res.on('error', () => undefined);
        });
      });
      expect(cut).toEqual({ complete: false, status: 200 });
    }
    // Header lines or a status that HTTP/1.1 cannot carry (an injected CRLF, say): 502.
    for (const path of ['crlf', 'bad-status']) {
      const bad = await request(`${env.sidecar.url}/extensions/hostile/${path}`, { headers });
      expect(bad.json).toEqual({ error: 'delegate hostile sent an invalid response', status: 502 });
      expect(bad.headers['set-cookie']).toBeUndefined();
    }
    const silent = await request(`${env.sidecar.url}/extensions/hostile/silent`, { headers });
    expect(silent.json).toEqual({ error: 'backend did not respond in time', status: 504 });
    // Response headers beyond the tunnel's limit: that stream is reset, the request fails.
    const huge = await request(`${env.sidecar.url}/extensions/hostile/huge`, { headers });
    expect(huge.status).toBe(502);
    await healthy();
  });

  it('refuses an agent of the older (HTTP/2) tunnel protocol, saying what to do', async () => {
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: Number(new URL(env.sidecar.url).port),
        path: '/extensions/.delegate/connect',
        headers: {
          connection: 'Upgrade',
          upgrade: 'argocd-extension-proxy-delegate',
          authorization: `Bearer ${TOKEN}`,
          'argocd-extension-proxy-delegate': 'hostile',
        },
      });
      req.once('upgrade', () => reject(new Error('upgraded')));
      req.once('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.once('error', reject);
      req.end();
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toContain('older delegate tunnel protocol');
  });

  it('survives a reconnect storm: hundreds of agents connecting and leaving at once', async () => {
    for (const socket of sockets) socket.destroy();
    await waitTunnels(0);
    const fds = () => readdirSync(`/proc/${env.sidecar.pid}/fd`).length;
    const fdsBefore = fds();
    const port = Number(new URL(env.sidecar.url).port);
    const attempt = (token: string) =>
      new Promise<number>((resolve) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          path: '/extensions/.delegate/connect',
          agent: false,
          headers: {
            connection: 'Upgrade',
            upgrade: 'argocd-extension-proxy-delegate/2',
            authorization: `Bearer ${token}`,
            'argocd-extension-proxy-delegate': 'hostile',
          },
        });
        req.once('upgrade', (_res, socket: net.Socket) => {
          // Connected: leave at once, as a crash-looping agent would.
          socket.destroy();
          resolve(101);
        });
        req.once('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', () => resolve(0));
        req.end();
      });
    const results: number[] = [];
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 60 }, (_, i) => attempt(i % 3 === 0 ? 'wrong' : TOKEN));
      results.push(...(await Promise.all(batch)));
    }
    expect(results.filter((s) => s === 101).length).toBe(200);
    expect(results.filter((s) => s === 401).length).toBe(100);
    await waitTunnels(0);
    await healthy();
    // Every tunnel's socket was released (a little slack for the test's own keep-alive).
    await eventually(() => expect(fds()).toBeLessThanOrEqual(fdsBefore + 3));
  });

  it('drops a tunnel that speaks garbage instead of HTTP/2, and one that stops answering pings', async () => {
    for (const socket of sockets) socket.destroy();
    await waitTunnels(0);
    await connectFakeAgent(
      () => undefined,
      (socket) => {
        socket.on('error', () => undefined);
        socket.write('this is not HTTP/2 at all\r\n\r\n'.repeat(100));
        return true;
      },
    );
    await waitTunnels(0);
    const reply = await request(`${env.sidecar.url}/extensions/hostile/x`, { headers });
    expect(reply.status).toBe(503);
    // A silent peer: upgrades, then never reads or writes a byte.
    await connectFakeAgent(
      () => undefined,
      (socket) => {
        socket.on('error', () => undefined);
        socket.pause();
        return true;
      },
    );
    await env.sidecar.waitForLog(
      (l) => l.msg === 'delegate tunnel unresponsive; closing it',
      10_000,
    );
    await waitTunnels(0);
    await healthy();
    expect(env.sidecar.output()).not.toContain(TOKEN);
  });
});
