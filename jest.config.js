/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Integration tests start real servers and child processes; give them room
  // on a slow machine instead of failing because it is slow.
  testTimeout: 60000,
  maxWorkers: 2,
};
