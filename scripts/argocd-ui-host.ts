/**
 * Argo CD's own web UI (a production build of its ui/ folder) on one loopback origin, served
 * the way argocd-server and the Ingress in front of it serve it: the static build with
 * index.html for the UI's routes, the API (the FakeArgoCD stand-in), `/extensions.js`
 * concatenated from the extensions the installer unpacked, and `/extensions/` forwarded to
 * the sidecar. Used by `npm start -- --argocd-ui DIR` and by test/browser/argocd-ui.test.ts.
 */
import { execFileSync } from 'child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'fs';
import http from 'http';
import { AddressInfo } from 'net';
import { basename, extname, join, resolve, sep } from 'path';
import type { FakeArgoCD } from '../test/helpers/fake-argocd';
import { BIN } from '../test/helpers/sidecar-process';

export interface ArgoCDUiHostOptions {
  /** The UI build (Argo CD's ui/dist/app): index.html, main.<hash>.js, assets/. */
  dist: string;
  /** The stand-in for argocd-server's API. */
  argocd: FakeArgoCD;
  /** Argo CD's /tmp/extensions/: where the extension installer unpacked the UI extensions. */
  extensionsDir: string;
  /** The sidecar: the Ingress routes `<root path>/extensions/` to it, path unchanged. */
  extensionsUpstream: string;
  /** argocd-server's --rootpath (and so --basehref), e.g. `/argocd`; default none. */
  rootPath?: string;
  /** What /api/version reports (the UI shows it in its sidebar); default the stand-in's. */
  version?: string;
  host?: string;
  /** Default: an ephemeral port. */
  port?: number;
}

export interface ArgoCDUiHost {
  /** The origin, e.g. `http://127.0.0.1:8083`. */
  origin: string;
  /** Where the UI is: the origin and the root path, with a trailing slash. */
  baseUrl: string;
  close(): Promise<void>;
}

/** server/server.go extensionsPattern: the files argocd-server serves as extensions. */
const EXTENSIONS_PATTERN = /^extension(.*)\.js$/;

/** server/server.go baseHRefRegex. */
const BASE_HREF = /<base href="(.*?)">/g;

/** server/server.go noCacheHeaders, sent with index.html. */
const NO_CACHE_HEADERS = {
  expires: 'Thu, 01 Jan 1970 00:00:00 UTC',
  'cache-control': 'no-cache, private, max-age=0',
  pragma: 'no-cache',
  'x-accel-expires': '0',
};

/** server/server.go mainJsBundleRegex. */
const MAIN_JS_BUNDLE = /^main\.[0-9a-f]{20}\.js$/;

/** Go's mime.TypeByExtension for what a UI build holds. */
const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.ico': 'image/vnd.microsoft.icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Installs the extension as the Component's init container does: the project's own
 * `install-extension` command (sha256 check against `<tar>.sha256`, then the tar's
 * `resources/` into `extensionsDir`), optionally with `--tab-kinds`.
 */
export function installUiExtension(
  tarPath: string,
  extensionsDir: string,
  tabKinds?: string,
): void {
  execFileSync(
    process.execPath,
    [
      BIN,
      'install-extension',
      `--from=${tarPath}`,
      `--to=${extensionsDir}`,
      ...(tabKinds ? [`--tab-kinds=${tabKinds}`] : []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/**
 * The body of `/extensions.js`, as server/server.go (*ArgoCDServer).serveExtensions writes
 * it: filepath.Walk of the directory (lexical order within each folder, symbolic links
 * neither followed nor served), every regular file whose name matches `^extension(.*)\.js$`
 * wrapped in try/catch with a `// source:` line (which names the file twice, as upstream's
 * format string does). A missing directory is an empty body.
 */
export function concatenateExtensions(extensionsDir: string): string {
  return extensionFiles(extensionsDir)
    .map((path) => {
      const name = basename(path);
      return (
        `// source: ${path}/${name} \ntry {\n` +
        readFileSync(path, 'utf8') +
        `\n} catch(e) { console.error('Extension ${name} failed to load:', e); }\n`
      );
    })
    .join('');
}

/** The files serveExtensions serves from `extensionsDir`, in its order (see above). */
export function extensionFiles(extensionsDir: string): string[] {
  const files: string[] = [];
  const walk = (path: string) => {
    const info = lstatSync(path);
    if (info.isDirectory()) {
      // Go's filepath.Walk sorts names with sort.Strings: byte order, not locale order.
      const names = readdirSync(path).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const entry of names) walk(join(path, entry));
    } else if (!info.isSymbolicLink() && EXTENSIONS_PATTERN.test(basename(path))) {
      files.push(path);
    }
  };
  if (existsSync(extensionsDir)) walk(extensionsDir.replace(/\/+$/, ''));
  return files;
}

/**
 * index.html as server/server.go (*ArgoCDServer).getIndexData serves it: unchanged for the
 * base href `/`, else every `<base href="...">` becomes `<base href="/<root>/">`
 * (replaceBaseHRef).
 */
export function replaceBaseHRef(html: string, rootPath: string): string {
  const root = rootPath.replace(/^\/+|\/+$/g, '');
  return root === '' ? html : html.replace(BASE_HREF, `<base href="/${root}/">`);
}

/**
 * The UI's URL that opens a resource's panel on one of its tabs (application-details.tsx
 * reads `node` = `<group>/<kind>/<namespace>/<name>/0`, resource-details.tsx `tab`; resource
 * extensions' tabs are `extension-<i>`, sorted by title).
 */
export function resourceTabUrl(
  baseUrl: string,
  app: { namespace: string; name: string },
  resource: { group: string; kind: string; namespace: string; name: string },
  tab: string,
): string {
  const node = [resource.group, resource.kind, resource.namespace, resource.name, '0'].join('/');
  const query = new URLSearchParams({ node, tab });
  return `${baseUrl}applications/${app.namespace}/${app.name}?${query.toString()}`;
}

/** Starts the server; resolves once it listens. */
export async function startArgoCDUiHost(options: ArgoCDUiHostOptions): Promise<ArgoCDUiHost> {
  const dist = resolve(options.dist);
  const index = readFileSync(join(dist, 'index.html'), 'utf8');
  const trimmed = (options.rootPath ?? '').replace(/^\/+|\/+$/g, '');
  const root = trimmed === '' ? '' : `/${trimmed}`;
  const indexHtml = replaceBaseHRef(index, root);
  const upstream = new URL(options.extensionsUpstream);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    // The Ingress sends `<root>/extensions/` to the sidecar before argocd-server sees it.
    if (url.pathname.startsWith(`${root}/extensions/`)) return forward(req, res, upstream);
    if (root) {
      // server/server.go withRootPath: a ServeMux with `/<root>/` → http.StripPrefix; Go's
      // ServeMux redirects the bare `/<root>` to it and answers anything else 404.
      if (url.pathname === root) {
        res.writeHead(301, { location: `${root}/${url.search}` });
        return res.end();
      }
      if (!url.pathname.startsWith(`${root}/`)) return notFound(res);
      req.url = url.pathname.slice(root.length) + url.search;
    }
    const path = url.pathname.slice(root.length);
    if (path.startsWith('/api/') || path === '/auth/logout') {
      void options.argocd.handleRequest(req, res, {
        baseHRef: root || '/',
        version: options.version,
      });
      return undefined;
    }
    if (path === '/extensions.js') {
      const body = concatenateExtensions(options.extensionsDir);
      res.writeHead(200, {
        'content-type': 'application/javascript',
        'content-length': Buffer.byteLength(body),
      });
      return res.end(body);
    }
    return serveStatic(req, res, dist, path, indexHtml);
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolvePromise);
  });
  const address = server.address() as AddressInfo;
  const origin = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  return {
    origin,
    baseUrl: `${origin}${root}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * server/server.go (*ArgoCDServer).newStaticAssetsHandler: a request that accepts HTML
 * (`text/html` as one whole item of Accept) and names no file of the build gets index.html
 * (the UI's routes, HTML5 history); anything else is a file of the build or 404. The headers
 * are argocd-server's defaults (--x-frame-options, --content-security-policy).
 */
function serveStatic(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  dist: string,
  path: string,
  indexHtml: string,
): void {
  const acceptHTML = (req.headers.accept ?? '')
    .split(',')
    .some((type) => type === 'text/html' || type === 'html');
  const file = resolve(dist, '.' + decodeURIComponent(path));
  const inside = file === dist || file.startsWith(dist + sep);
  const isFile = inside && existsSync(file) && statSync(file).isFile();
  const fileRequest = path !== '/index.html' && isFile;
  res.setHeader('x-frame-options', 'sameorigin');
  res.setHeader('content-security-policy', "frame-ancestors 'self';");
  res.setHeader('x-xss-protection', '1');
  if (acceptHTML && !fileRequest && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, {
      ...NO_CACHE_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(indexHtml),
    });
    return void res.end(req.method === 'HEAD' ? undefined : indexHtml);
  }
  if (!fileRequest) return notFound(res);
  if (MAIN_JS_BUNDLE.test(basename(path))) {
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
  }
  const body = readFileSync(file);
  res.writeHead(200, {
    'content-type': MIME_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Go's http.NotFound. */
function notFound(res: http.ServerResponse): void {
  res.writeHead(404, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
  });
  res.end('404 page not found\n');
}

/** The Ingress's rule for `/extensions/`: the request as it came, to the sidecar. */
function forward(req: http.IncomingMessage, res: http.ServerResponse, upstream: URL): void {
  const proxied = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: upstream.host },
    },
    (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    },
  );
  proxied.on('error', () => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><body><h1>502 Bad Gateway</h1></body></html>\n');
  });
  // The tab aborts a request it no longer needs (a new range, leaving the tab).
  res.on('close', () => {
    if (!res.writableFinished) proxied.destroy();
  });
  req.pipe(proxied);
}
