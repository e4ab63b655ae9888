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
/** The demo's login page: pick a user, get a real Argo CD session cookie. */
function loginPage(users, root = '') {
  const options = users
    .map((u) => `<li><button name="user" value="${u.name}">${u.name}</button> ${u.note}</li>`)
    .join('');
  return (
    `<!doctype html><html><head><title>Demo login</title><link rel="stylesheet" href="${root}/host.css"></head>` +
    '<body><main style="padding:24px"><h2>Sign in to the demo Argo CD</h2>' +
    `<form method="post" action="${root}/login"><ul>${options}</ul></form></main></body></html>`
  );
}

/**
 * Options beyond the fixture mode (npm start's full demo):
 * - extensionsUpstream: forward /extensions/<name>/... to the sidecar at this URL (same
 *   origin for the browser, as behind Argo CD's Ingress), instead of the fixture;
 * - login: { users: [{name, note}], token: (user) => jwt }: a login page at /login that
 *   sets the httpOnly argocd.token cookie, as argocd-server does;
 * - rootPath: serve everything under this path (e.g. /argocd), as argocd-server does with
 *   server.rootpath: the page's <base href> is /<root>/, a path outside the root is a 404,
 *   and /extensions/ requests are forwarded with the root path kept (as the Ingress does);
 * - extensionsDir: the directory /extensions.js is assembled from, as argocd-server walks
 *   /tmp/extensions/ (default: the build's dist/extension/resources).
 */
function startDevServer({
  host = '127.0.0.1',
  port = 0,
  extensionsUpstream,
  login,
  rootPath = '',
  extensionsDir = EXTENSIONS_DIR,
} = {}) {
  const requests = [];
  const trimmed = rootPath.replace(/^\/+|\/+$/g, '');
  const root = trimmed === '' ? '' : `/${trimmed}`;
  const server = http.createServer((req, res) => {
    const full = new URL(req.url || '/', 'http://localhost');
    if (root && full.pathname === root) {
      // Go's ServeMux (argocd-server) redirects the bare root to its trailing-slash form.
      res.writeHead(301, { location: `${root}/${full.search}` });
      return res.end();
    }
    if (root && !full.pathname.startsWith(`${root}/`)) {
      return send(res, 404, 'text/plain', '404 page not found\n');
    }
    // The rest is routed as without a root path (argocd-server strips the prefix).
    const url = new URL(full.pathname.slice(root.length) + full.search, 'http://localhost');
    if (login && url.pathname === '/login' && req.method === 'GET') {
      return send(res, 200, 'text/html; charset=utf-8', loginPage(login.users, root));
    }
    if (login && url.pathname === '/login' && req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (body += d.slice(0, 1000)));
      req.on('end', () => {
        const user = new URL(`http://x/?${body}`).searchParams.get('user');
        if (!login.users.some((u) => u.name === user)) {
          return send(res, 400, 'text/plain', 'unknown user');
        }
        res.writeHead(303, {
          location: `${root}/?react=19`,
          // argocd-server scopes the cookie to its base href (util/http SetTokenCookie).
          'set-cookie': `argocd.token=${login.token(user)}; Path=${root || '/'}; HttpOnly; SameSite=Strict`,
        });
        res.end();
      });
      return undefined;
    }
    if (extensionsUpstream && url.pathname.startsWith('/extensions/')) {
      const upstream = http.request(
        new URL(req.url, extensionsUpstream),
        { method: req.method, headers: { ...req.headers, host: new URL(extensionsUpstream).host } },
        (upRes) => {
          res.writeHead(upRes.statusCode || 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      upstream.on('error', () =>
        send(res, 502, 'application/json', '{"error":"sidecar unreachable","status":502}'),
      );
      req.pipe(upstream);
      return undefined;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const react = url.searchParams.get('react') === '16' ? '16' : '19';
      const html = fs
        .readFileSync(path.join(__dirname, 'index.html'), 'utf8')
        .replace('%HOST_SCRIPT%', `host-react${react}.js`)
        // As argocd-server rewrites its index.html under a root path (replaceBaseHRef).
        .replace('<base href="/" />', `<base href="${root}/" />`);
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
      const body = listExtensionScripts(extensionsDir)
        .map((file) => fs.readFileSync(file, 'utf8'))
        .join('\n');
      return send(res, 200, 'text/javascript', body);
    }
    if (url.pathname === '/extensions/anomaly/api/v1/anomalies' && req.method === 'GET') {
      const query = Object.fromEntries(url.searchParams);
      requests.push({ path: full.pathname, query, headers: req.headers });
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
