// Benchmark backend: answers every request with a fixed body (default 1 KiB).
// Prints its port on stdout. Usage: node backend.js [bytes]
'use strict';
const http = require('http');

const body = Buffer.alloc(Number(process.argv[2] || 1024), 0x61);
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
