import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import http from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { appHeaders } from '../helpers/environment';
import { FakeArgoCD, guestbook } from '../helpers/fake-argocd';
import { eventually, request } from '../helpers/http-client';
import { localSession, TEST_SERVER_SECRET } from '../helpers/local-tokens';
import { ArgoCDConfig } from '../helpers/mounted-dir';
import { PrivateNetwork } from '../helpers/netns';
import { peakRssMiB, resetPeakRss } from '../helpers/processes';
import { REPO_ROOT, SidecarProcess } from '../helpers/sidecar-process';

const TOKEN = 'netns-delegate-token-51c7e2a9d04b6f38';
const GIB = 1024 ** 3;
const reason = PrivateNetwork.unavailableReason();
if (reason && process.env.CI === 'true') {
  throw new Error(`delegate network-namespace tests cannot be skipped under CI=true: ${reason}`);
}
if (reason) process.stdout.write(`SKIPPED delegate network-namespace tests: ${reason}\n`);
const describeIfRoot = reason ? describe.skip : describe;

/**
 * The case delegates exist for: the backend listens on the loopback of a network namespace
 * the sidecar is not in, so the sidecar provably cannot reach it; the agent runs inside
 * that namespace and dials out over a veth pair to the sidecar. 1 GiB each way goes
 * through, with the memory growth of both processes measured.
 */
describeIfRoot('a delegate inside a private network', () => {
  const net = new PrivateNetwork();
  const argocd = new FakeArgoCD();
  const dir = mkdtempSync(join(tmpdir(), 'netns-agent-'));
  let backend: { firstLine: string; pid: number; kill: () => void };
  let config: ArgoCDConfig;
  let sidecar: SidecarProcess;
  let agent: SidecarProcess;
  const headers = {
    cookie: `argocd.token=${localSession('admin')}`,
    ...appHeaders('argocd:guestbook', 'default'),
  };

  beforeAll(async () => {
    net.create();
    backend = await net.startNode(join(REPO_ROOT, 'scripts', 'bench-servers', 'backend.js'), [
      '1024',
    ]);
    const port = Number(backend.firstLine);
    await argocd.start();
    argocd.setApplications([guestbook(['admin'])]);
    config = new ArgoCDConfig({
      cm: {
        'extension.config.private': `services:\n- url: http://127.0.0.1:${port}\n  delegate: inside\n`,
        // The same URL without the delegate: what the sidecar reaches on its own.
        'extension.config.direct': `connectionTimeout: 1s\nservices:\n- url: http://127.0.0.1:${port}\n`,
      },
      rbac: { 'policy.csv': 'p, admin, extensions, invoke, *, allow' },
      secret: { 'server.secretkey': TEST_SERVER_SECRET, 'delegate.inside.token': TOKEN },
    });
    // The sidecar listens on its end of the veth pair (and nowhere else).
    sidecar = new SidecarProcess(
      [...config.flags, ...argocd.sidecarFlags()],
      {},
      { listen: `${net.outsideAddress}:0`, discardOutputAfterStart: true },
    );
    await sidecar.start();
    writeFileSync(join(dir, 'token'), TOKEN);
    agent = new SidecarProcess(
      [
        '--server',
        sidecar.url,
        '--name',
        'inside',
        '--token-file',
        join(dir, 'token'),
        '--allow',
        `127.0.0.1:${port}`,
      ],
      {},
      { command: 'delegate', netns: net.name, discardOutputAfterStart: true },
    );
    await agent.start();
    await eventually(async () => {
      const reply = await request(`${sidecar.adminUrl}/delegates`);
      expect((reply.json as { delegates: unknown[] }).delegates).toHaveLength(1);
    }, 15_000);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await sidecar?.stop();
    backend?.kill();
    await argocd.stop();
    config?.remove();
    net.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cannot reach the backend directly, and reaches it through the delegate', async () => {
    const direct = await request(`${sidecar.url}/extensions/direct/`, { headers });
    expect(direct.status).toBe(502);
    const delegated = await request(`${sidecar.url}/extensions/private/`, { headers });
    expect(delegated.status).toBe(200);
    expect(delegated.body).toBe('a'.repeat(1024));
  });

  it('streams 1 GiB down and 1 GiB up with bounded memory in sidecar and agent', async () => {
    const pids = [sidecar.pid, agent.pid];
    resetPeakRss(pids);
    const before = pids.map((pid) => peakRssMiB([pid]));
    const down = await new Promise<number>((resolve, reject) => {
      http.get(`${sidecar.url}/extensions/private/stream?bytes=${GIB}`, { headers }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      });
    });
    expect(down).toBe(GIB);
    const afterDown = pids.map((pid, i) => peakRssMiB([pid]) - before[i]);
    const up = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        `${sidecar.url}/extensions/private/upload`,
        {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/octet-stream',
            'content-length': GIB,
          },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x63);
      let left = GIB / chunk.length;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(JSON.parse(up)).toEqual({ received: GIB });
    const growth = pids.map((pid, i) => peakRssMiB([pid]) - before[i]);
    process.stdout.write(
      `delegate 1 GiB down, then up: peak RSS growth sidecar ${afterDown[0].toFixed(1)}, then ${growth[0].toFixed(1)} MiB (from ${before[0].toFixed(1)}); ` +
        `agent ${afterDown[1].toFixed(1)}, then ${growth[1].toFixed(1)} MiB (from ${before[1].toFixed(1)})\n`,
    );
    // The sidecar's budget is the performance issue's (< 64 MiB for 1 GiB). The agent's peak
    // is mostly garbage not yet collected at ~1 GB/s (its live buffers are bounded by HTTP/2
    // flow control); bounded here at 96 MiB so that a leak (growth with the body) shows.
    expect(growth[0]).toBeLessThan(64);
    expect(growth[1]).toBeLessThan(96);
  }, 120_000);
});
