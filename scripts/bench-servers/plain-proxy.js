// Baseline: the simplest correct Node reverse proxy (http client with a keep-alive pool),
// no checks at all. Prints its port. Usage: node plain-proxy.js BACKEND_PORT
'use strict';
const http = require('http');

const backendPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
const server = http.createServer((req, res) => {
  const upstream = http.request(
    {
      host: '127.0.0.1',
      port: backendPort,
      path: req.url,
      method: req.method,
      headers: req.headers,
      agent,
    },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    res.statusCode = 502;
    res.end();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 65_000;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () =>
  process.stdout.write(`${server.address().port}\n`),
);
process.on('SIGTERM', () => process.exit(0));
