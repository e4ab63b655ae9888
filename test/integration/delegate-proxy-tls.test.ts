import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import http from 'http';
import net, { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import tls from 'tls';
import { SeenRequest } from '../helpers/echo-backend';
import { appHeaders, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';
import { SidecarProcess } from '../helpers/sidecar-process';
import { makeTlsFixtures } from '../helpers/tls-fixtures';

const TOKEN = 'proxied-delegate-token-2c4e6a8b0d1f3579';

/**
 * The way an agent usually reaches Argo CD: through the corporate HTTPS proxy (CONNECT,
 * with credentials) to a TLS endpoint (the Ingress) whose certificate is signed by a
 * private CA. Here: a real CONNECT proxy and a TLS terminator in front of the sidecar.
 */
describe('a delegate behind an HTTPS proxy, to a TLS endpoint', () => {
  const env = new Environment();
  const fixtures = makeTlsFixtures();
  const dir = mkdtempSync(join(tmpdir(), 'agent-proxy-'));
  const connects: Array<{ target: string; auth?: string }> = [];
  let agent: SidecarProcess;
  // The Ingress: terminates TLS for backend.internal, passes bytes to the sidecar.
  const ingress = tls.createServer({ cert: fixtures.serverCert, key: fixtures.serverKey }, (s) => {
    const upstream = net.connect(Number(new URL(env.sidecar.url).port), '127.0.0.1');
    s.pipe(upstream).pipe(s);
    s.on('error', () => upstream.destroy());
    upstream.on('error', () => s.destroy());
  });
  // The corporate proxy: CONNECT only, resolves backend.internal itself, wants credentials.
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    connects.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (
      req.headers['proxy-authorization'] !== `Basic ${Buffer.from('agent:pw').toString('base64')}`
    ) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host === 'backend.internal' ? '127.0.0.1' : host);
    upstream.once('connect', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });

  beforeAll(async () => {
    await new Promise<void>((r) => ingress.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    await env.start({
      secret: { 'delegate.corp.token': TOKEN },
      cm: (e) => ({
        'extension.config.corp': `services:\n- url: ${e.backend.url}/api\n  delegate: corp\n`,
      }),
    });
    writeFileSync(join(dir, 'token'), TOKEN);
    writeFileSync(join(dir, 'ca.crt'), fixtures.caCert);
  });
  afterAll(async () => {
    await agent?.stop();
    await env.stop();
    ingress.close();
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const startAgent = (proxyUrl: string) => {
    agent = new SidecarProcess(
      [
        '--server',
        `https://backend.internal:${(ingress.address() as AddressInfo).port}`,
        '--server-ca',
        join(dir, 'ca.crt'),
        '--name',
        'corp',
        '--token-file',
        join(dir, 'token'),
        '--allow',
        `127.0.0.1:${env.backend.port}`,
        '--reconnect-max',
        '1s',
      ],
      { HTTPS_PROXY: proxyUrl },
      { command: 'delegate' },
    );
    return agent.start();
  };

  it('says why when the proxy refuses it, and never logs the proxy credentials', async () => {
    const port = (proxy.address() as AddressInfo).port;
    await startAgent(`http://agent:wrong-proxy-pw@127.0.0.1:${port}`);
    await agent.waitForLog((l) => String(l.error ?? '').includes('proxy answered 407'));
    expect(agent.output()).not.toContain('wrong-proxy-pw');
    await agent.stop();
  });

  it('tunnels through CONNECT and TLS, and requests flow', async () => {
    const port = (proxy.address() as AddressInfo).port;
    await startAgent(`http://agent:pw@127.0.0.1:${port}`);
    await eventually(async () => {
      const list = await request(`${env.sidecar.adminUrl}/delegates`);
      expect((list.json as { delegates: unknown[] }).delegates).toHaveLength(1);
    }, 15_000);
    expect(connects.at(-1)).toEqual({
      target: `backend.internal:${(ingress.address() as AddressInfo).port}`,
      auth: `Basic ${Buffer.from('agent:pw').toString('base64')}`,
    });
    const reply = await request(`${env.sidecar.url}/extensions/corp/through-proxy`, {
      headers: {
        cookie: `argocd.token=${localSession('admin')}`,
        ...appHeaders('argocd:guestbook', 'default'),
      },
    });
    expect(reply.status).toBe(200);
    expect((reply.json as unknown as SeenRequest).url).toBe('/api/through-proxy');
    expect(agent.output()).not.toContain(TOKEN);
  });
});
