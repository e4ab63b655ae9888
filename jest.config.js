/**
 * Test tiers (CONTRIBUTING.md, "Tests"): each is a jest project, selected by the npm
 * scripts. `npm test` runs the deterministic tiers (unit and integration, still with real
 * servers); `npm run test:all` runs every tier, as CI does.
 */
const TIERS = {
  // Pure code and single processes; the request-attack suite; rendered manifests.
  unit: ['test/unit', 'test/security', 'test/manifests'],
  // Real sidecars, backends, OIDC provider, Prometheus and Redis on loopback.
  integration: ['test/integration'],
  // Headless Chromium (Debian's chromium) with the built extension.
  browser: ['test/browser'],
  // A minute of load under faults (npm run soak, shortened).
  soak: ['test/soak'],
  // Network namespaces (`ip netns`, root): a backend the sidecar cannot reach.
  netns: ['test/netns'],
  // valgrind's callgrind counting instructions (npm run bench:instructions' own tests).
  instructions: ['test/instructions'],
};

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  projects: Object.entries(TIERS).map(([displayName, dirs]) => ({
    displayName,
    rootDir: __dirname,
    testEnvironment: 'node',
    roots: dirs.map((dir) => `<rootDir>/${dir}`),
    testMatch: ['**/*.test.ts'],
    transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  })),
  // Integration tests start real servers and child processes; give them room on a slow
  // machine instead of failing because it is slow.
  testTimeout: 60000,
};
