import http, { OutgoingHttpHeaders } from 'http';
import net, { Socket } from 'net';
import tls from 'tls';
import { Duplex } from 'stream';
import { proxyFor } from './https-proxy';

/**
 * A connected socket to the sidecar: direct, or through the HTTPS_PROXY/HTTP_PROXY (CONNECT)
 * that applies to it; TLS for an https server (verified, ALPN http/1.1).
 */
export async function dialSidecar(
  server: URL,
  options: { env: NodeJS.ProcessEnv; serverCa?: string },
): Promise<Duplex> {
  const port = Number(server.port) || (server.protocol === 'https:' ? 443 : 80);
  const host = server.hostname.replace(/^\[|\]$/g, '');
  const proxy = proxyFor(server, options.env);
  let raw: Socket;
  if (proxy) raw = await connectThroughProxy(proxy, host, port);
  else raw = await connectTcp(host, port);
  if (server.protocol !== 'https:') return raw;
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket: raw,
      servername: net.isIP(host) ? undefined : host,
      ca: options.serverCa ? [...tls.rootCertificates, options.serverCa] : undefined,
      ALPNProtocols: ['http/1.1'],
    });
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

function connectTcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), 10_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function connectThroughProxy(proxy: URL, host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const target = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    const headers: OutgoingHttpHeaders = { host: target };
    if (proxy.username) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port) || 80,
      method: 'CONNECT',
      path: target,
      headers,
      timeout: 10_000,
    });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return reject(new Error(`proxy answered ${res.statusCode} to CONNECT`));
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('timeout', () => req.destroy(new Error('proxy did not answer in time')));
    req.once('error', reject);
    req.end();
  });
}
