// Reference for `npm run bench` and `npm run bench:instructions`: the least an undici-based
// proxy does (the client the sidecar uses): no checks, no log, no metrics. Hop-by-hop headers
// are dropped both ways; bodies stream with backpressure. Prints its port.
// Usage: node undici-proxy.js BACKEND_PORT
'use strict';
const http = require('http');
// undici's Pool module alone, as the sidecar loads it (proxy-server/src/proxy/undici-pool.ts),
// so that the peak RSS column compares like with like.
const Pool = require('undici/lib/dispatcher/pool');

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);
const backendPort = Number(process.argv[2]);
const pool = new Pool(`http://127.0.0.1:${backendPort}`, { connections: null, pipelining: 1 });

const server = http.createServer((req, res) => {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) {
      headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
  }
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'];
  pool.dispatch(
    { path: req.url, method: req.method, headers, body: hasBody ? req : null },
    {
      onConnect() {},
      onError() {
        if (res.headersSent) res.destroy();
        else res.writeHead(502).end();
      },
      onHeaders(status, raw, resume) {
        const out = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toString('latin1');
          if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1].toString('latin1'));
        }
        res.writeHead(status, out);
        res.on('drain', resume);
        return true;
      },
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        res.end();
      },
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () =>
  process.stdout.write(`${server.address().port}\n`),
);
process.on('SIGTERM', () => process.exit(0));
