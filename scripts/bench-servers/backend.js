// Benchmark backend: answers every request with a fixed body (default 1 KiB). Also:
//   GET /stream?bytes=N  streams N bytes (64 KiB chunks, honouring backpressure);
//   any request with a body: reads it all and answers {"received": <bytes>}.
// Prints its port on stdout. Usage: node backend.js [bytes]
'use strict';
const http = require('http');
const { URL } = require('url');

const body = Buffer.alloc(Number(process.argv[2] || 1024), 0x61);
const chunk = Buffer.alloc(64 * 1024, 0x62);

function stream(res, total) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let left = total;
  const pump = () => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/stream?')) {
    req.resume();
    return stream(res, Number(new URL(req.url, 'http://x').searchParams.get('bytes')));
  }
  let received = 0;
  req.on('data', (d) => (received += d.length));
  req.on('end', () => {
    if (received > 0) {
      const answer = JSON.stringify({ received });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
      return void res.end(answer);
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () =>
  process.stdout.write(`${server.address().port}\n`),
);
process.on('SIGTERM', () => process.exit(0));
