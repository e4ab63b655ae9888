// Builds the extension into one self-contained script, as Argo CD loads it: every
// `extension*.js` file under /tmp/extensions/ is concatenated into /extensions.js, so
// there can be no chunks, no stylesheet and no second React.
const path = require('path');
const webpack = require('webpack');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'extension');

/** The argocd-extension-installer layout: resources/<dir>/<extension*.js>. */
const BUNDLE_DIR = path.join(OUT, 'resources', 'extension-anomaly.js');
const BUNDLE_NAME = 'extensions-anomaly.js';

const tsRule = {
  test: /\.tsx?$/,
  loader: 'ts-loader',
  options: { configFile: path.join(__dirname, 'tsconfig.json'), onlyCompileBundledFiles: true },
};

const common = {
  mode: 'production',
  target: ['web', 'es2019'],
  devtool: false,
  resolve: { extensions: ['.tsx', '.ts', '.js'] },
  module: { rules: [tsRule] },
  performance: { hints: false },
};

/** The extension: React, ReactDOM and Moment come from the host page's window. */
const extension = {
  ...common,
  name: 'extension',
  entry: path.join(__dirname, 'src', 'index.tsx'),
  output: { path: BUNDLE_DIR, filename: BUNDLE_NAME, iife: true, clean: true },
  // 'window' (not 'var'): a missing global is undefined instead of a ReferenceError
  // that would abort the concatenated extensions.js for every extension after ours.
  externalsType: 'window',
  externals: { react: 'React', 'react-dom': 'ReactDOM', moment: 'Moment' },
  optimization: { splitChunks: false, runtimeChunk: false },
  plugins: [new webpack.optimize.LimitChunkCountPlugin({ maxChunks: 1 })],
};

/**
 * The development host page's script for one React major: it bundles that React (as
 * Argo CD's own UI does) and exposes it as window.React / ReactDOM / Moment.
 */
function devHost(major, reactPackage, reactDomPackage) {
  return {
    ...common,
    name: `dev-host-react${major}`,
    entry: path.join(__dirname, 'dev', 'host', 'index.tsx'),
    output: { path: path.join(ROOT, 'dist', 'extension-dev'), filename: `host-react${major}.js` },
    resolve: {
      ...common.resolve,
      // minimatch 3 falls back to '/' when 'path' is missing, as in Argo CD's bundle.
      fallback: { path: false },
      alias: {
        react$: require.resolve(reactPackage),
        'react-dom$': require.resolve(reactDomPackage),
        'host-render$': path.join(__dirname, 'dev', 'host', `render-react${major}.ts`),
      },
    },
    plugins: [
      new webpack.IgnorePlugin({ resourceRegExp: /^\.\/locale$/, contextRegExp: /moment$/ }),
      new webpack.DefinePlugin({ __REACT_MAJOR__: JSON.stringify(major) }),
    ],
  };
}

// A plain multi-config export (webpack-cli compatible); the build script also uses the
// paths attached to it.
module.exports = [
  extension,
  devHost(16, 'react16', 'react-dom16'),
  devHost(19, 'react', 'react-dom'),
];
module.exports.paths = { OUT, BUNDLE_DIR, BUNDLE_NAME };
