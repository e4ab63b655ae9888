// A real OpenID Provider (panva/oidc-provider, ESM-only) for tests, run as a child process by
// test/helpers/oidc.ts. It serves the provider's own discovery document and JWKS under the
// mount path, and a few test-only control endpoints under /__test__/ (never under the mount
// path): issue an ID token with the provider's signing keys, rotate those keys, make the
// provider unavailable, and count discovery/JWKS fetches.
//
// Usage: node oidc-provider-server.mjs '<json options>'; prints one JSON line
// {"event":"listening","url":...,"issuer":...} on stdout once it accepts connections.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import process from 'node:process';
import { URL } from 'node:url';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2] ?? '{}');
const mountPath = options.mountPath ?? '';
const keyAlgs = options.keyAlgs ?? ['RS256'];
const clients = (options.clients ?? [{ client_id: 'argo-cd' }]).map((client) => ({
  client_secret: 'test-client-secret',
  redirect_uris: ['https://argocd.example.test/auth/callback'],
  ...client,
}));

/** Generates one private signing JWK for `alg`, with a fresh kid. */
function generateSigningKey(alg) {
  const { privateKey } = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    jwk: { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig' },
    privateKey,
  };
}

let keys = keyAlgs.map(generateSigningKey);
let available = true;
const stats = { discovery: 0, jwks: 0 };
let provider;
let issuer;

function buildProvider() {
  const instance = new Provider(issuer, {
    clients,
    jwks: { keys: keys.map((key) => key.jwk) },
    enabledJWA: options.idTokenAlgs ? { idTokenSigningAlgValues: options.idTokenAlgs } : undefined,
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: { devInteractions: { enabled: false } },
  });
  // The public origin may differ from the listening one (Dex behind argocd-server): trust
  // the X-Forwarded-* headers this script sets itself.
  instance.proxy = true;
  return instance;
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function base64url(value) {
  return Buffer.from(value).toString('base64url');
}

/** Signs an arbitrary payload with the provider's current key for `alg` (same kid as its JWKS). */
function signRaw(payload, alg) {
  const key = keys.find((candidate) => candidate.jwk.alg === alg);
  if (!key) throw new Error(`no provider key for ${alg}`);
  const header = { alg, typ: 'JWT', kid: key.jwk.kid };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const digest = `sha${alg.slice(2)}`;
  const signingKey = alg.startsWith('PS')
    ? { key: key.privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }
    : alg.startsWith('ES')
      ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' }
      : key.privateKey;
  return `${input}.${sign(digest, Buffer.from(input), signingKey).toString('base64url')}`;
}

async function issueIdToken(body) {
  const claims = { sub: 'test-user', ...(body.claims ?? {}) };
  const audience = body.audience === undefined ? clients[0].client_id : body.audience;
  const client = typeof audience === 'string' ? await provider.Client.find(audience) : undefined;
  const custom = body.alg || Object.values(claims).includes(null) || 'aud' in claims;
  if (client && !custom) {
    // The provider's own ID token path: its keystore, its client's signing algorithm.
    const { sub, exp, ...extra } = claims;
    const token = new provider.IdToken({ sub }, { client });
    token.scope = 'openid';
    for (const [name, value] of Object.entries(extra)) token.set(name, value);
    return token.issue({ use: 'idtoken', expiresAt: typeof exp === 'number' ? exp : null });
  }
  // Audience lists, unregistered audiences, explicit algorithms, removed claims (null): the
  // same keys, signed directly.
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: issuer, aud: audience, iat: now, exp: now + 3600, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === null) delete payload[name];
  return signRaw(payload, body.alg ?? clients[0].id_token_signed_response_alg ?? 'RS256');
}

async function handleControl(req, res, path) {
  const body = req.method === 'POST' ? await readJson(req) : {};
  let result;
  switch (path) {
    case '/__test__/id-token':
      result = { token: await issueIdToken(body) };
      break;
    case '/__test__/rotate-keys': {
      const fresh = keyAlgs.map(generateSigningKey);
      keys = body.keepOld ? [...fresh, ...keys] : fresh;
      provider = buildProvider();
      result = { kids: keys.map((key) => key.jwk.kid) };
      break;
    }
    case '/__test__/availability':
      available = Boolean(body.available);
      result = { available };
      break;
    case '/__test__/stats':
      result = { ...stats };
      break;
    default:
      res.writeHead(404).end();
      return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url.startsWith('/__test__/')) {
    handleControl(req, res, url.split('?')[0]).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err?.stack ?? err));
    });
    return;
  }
  if (!available) {
    res.writeHead(503).end('unavailable');
    return;
  }
  if (mountPath && url !== mountPath && !url.startsWith(`${mountPath}/`)) {
    res.writeHead(404).end();
    return;
  }
  const rest = url.slice(mountPath.length) || '/';
  if (rest.startsWith('/.well-known/openid-configuration')) stats.discovery++;
  if (rest.startsWith('/jwks')) stats.jwks++;
  // Mounted like express does it: the provider sees the path below the mount point and
  // finds the mount point itself from originalUrl.
  req.originalUrl = url;
  req.url = rest;
  const publicUrl = new URL(issuer);
  req.headers.host = publicUrl.host;
  req.headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
  provider.callback()(req, res);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}`;
  issuer = `${options.issuerOrigin ?? url}${mountPath}`;
  provider = buildProvider();
  process.stdout.write(`${JSON.stringify({ event: 'listening', url, issuer })}\n`);
});

// The parent holds our stdin open; when it goes away (or asks us to stop), so do we.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
