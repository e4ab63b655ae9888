#!/usr/bin/env node
// `npm run dev:extension`: serves the development host page (React 16 or 19, like Argo
// CD <= 3.4 and >= 3.5), the built extension as /extensions.js (as argocd-server serves
// it), and a fixture for the anomaly API under /extensions/anomaly/.
const fs = require('fs');
const http = require('http');
const path = require('path');
const { URL } = require('url');

const { answerAnomalies } = require('./fixtures');

const ROOT = path.resolve(__dirname, '..', '..');
const EXTENSIONS_DIR = path.join(ROOT, 'dist', 'extension', 'resources');
const HOST_DIR = path.join(ROOT, 'dist', 'extension-dev');

/** Every file named extension*.js under the directory, in lexical walk order (as Argo CD). */
function listExtensionScripts(dir) {
  if (!fs.existsSync(dir)) return [];
  const found = [];
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listExtensionScripts(full));
    else if (/^extension.*\.js$/.test(entry.name)) found.push(full);
  }
  return found;
}

function parseCookies(header) {
  const cookies = {};
  for (const part of (header || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return cookies;
}

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

/**
 * Starts the server; resolves to `{url, close, requests}` where `requests` records every
 * API request (path, query and headers) so tests can assert what the tab sent.
 */
function startDevServer({ host = '127.0.0.1', port = 0 } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url || '/', 'http://localhost');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const react = url.searchParams.get('react') === '16' ? '16' : '19';
      const html = fs
        .readFileSync(path.join(__dirname, 'index.html'), 'utf8')
        .replace('%HOST_SCRIPT%', `host-react${react}.js`);
      return send(res, 200, 'text/html; charset=utf-8', html);
    }
    if (url.pathname === '/host.css') {
      return send(res, 200, 'text/css', fs.readFileSync(path.join(__dirname, 'host.css')));
    }
    const hostScript = /^\/(host-react(16|19)\.js)$/.exec(url.pathname);
    if (hostScript) {
      const file = path.join(HOST_DIR, hostScript[1]);
      if (!fs.existsSync(file))
        return send(res, 404, 'text/plain', 'run npm run build:extension first');
      return send(res, 200, 'text/javascript', fs.readFileSync(file));
    }
    if (url.pathname === '/extensions.js') {
      const body = listExtensionScripts(EXTENSIONS_DIR)
        .map((file) => fs.readFileSync(file, 'utf8'))
        .join('\n');
      return send(res, 200, 'text/javascript', body);
    }
    if (url.pathname === '/extensions/anomaly/api/v1/anomalies' && req.method === 'GET') {
      const query = Object.fromEntries(url.searchParams);
      requests.push({ path: url.pathname, query, headers: req.headers });
      const scenario = parseCookies(req.headers.cookie)['anomaly-fixture'] || 'ok';
      const answer = answerAnomalies(query, req.headers, scenario);
      const reply = () => send(res, answer.status, 'application/json', JSON.stringify(answer.body));
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
      return undefined;
    }
    return send(res, 404, 'application/json', JSON.stringify({ error: 'not found', status: 404 }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        url: `http://${host}:${address.port}`,
        requests,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

module.exports = { startDevServer, listExtensionScripts };

if (require.main === module) {
  const port = Number(process.env.PORT || 8083);
  startDevServer({ port }).then(({ url }) => {
    console.log(`extension dev host: ${url}/?react=19  (React 16: ${url}/?react=16)`);
    console.log('scenarios: add &scenario=403 (or 401, 503, sample, empty, slow, ...)');
  });
}
