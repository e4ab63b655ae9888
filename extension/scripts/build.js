#!/usr/bin/env node
// `npm run build:extension`: bundles the extension (and the dev host page's scripts),
// then packages it as argocd-extension-installer expects: a tar with a top-level
// resources/ directory and a sha256sum-format checksum file. Fails over the size budget.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const webpack = require('webpack');

const configs = require('../webpack.config.js');

const { OUT, BUNDLE_DIR, BUNDLE_NAME } = configs.paths;
const TAR_NAME = 'extension-anomaly.tar';
/** Issue 3: under 60 KiB gzip, without React. */
const GZIP_BUDGET_BYTES = 60 * 1024;

function runWebpack() {
  return new Promise((resolve, reject) => {
    webpack([...configs], (err, stats) => {
      if (err) return reject(err);
      if (stats.hasErrors()) {
        return reject(new Error(stats.toString({ all: false, errors: true, colors: false })));
      }
      if (stats.hasWarnings()) console.warn(stats.toString({ all: false, warnings: true }));
      resolve();
    });
  });
}

/** Deterministic tar (sorted, root-owned, epoch mtime): the same bundle, the same sha256. */
function writeTar() {
  const tarPath = path.join(OUT, TAR_NAME);
  execFileSync('tar', [
    '--format=ustar',
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-cf',
    tarPath,
    '-C',
    OUT,
    'resources',
  ]);
  const digest = crypto.createHash('sha256').update(fs.readFileSync(tarPath)).digest('hex');
  fs.writeFileSync(`${tarPath}.sha256`, `${digest}  ${TAR_NAME}\n`);
  return { tarPath, digest };
}

async function main() {
  await runWebpack();
  const bundle = fs.readFileSync(path.join(BUNDLE_DIR, BUNDLE_NAME));
  const gzip = zlib.gzipSync(bundle, { level: 9 }).length;
  const { tarPath, digest } = writeTar();
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `extension bundle: ${kib(bundle.length)} raw, ${kib(gzip)} gzip (budget ${kib(GZIP_BUDGET_BYTES)})`,
  );
  console.log(`extension package: ${path.relative(process.cwd(), tarPath)} sha256 ${digest}`);
  if (gzip > GZIP_BUDGET_BYTES) {
    throw new Error(
      `the extension bundle is over budget: ${kib(gzip)} gzip > ${kib(GZIP_BUDGET_BYTES)}`,
    );
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
