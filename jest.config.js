/** Tests are transpiled by swc (fast, no type-check); `npm run typecheck` (tsc --noEmit) type-checks once. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // the real-Flink tier runs on its own (npm run test:flink, jest.flink.config.js): it needs Java and minutes
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/flink/'],
  // examples/cdk-app imports the construct library by its package name, as another team's app would
  moduleNameMapper: { '^flink-elastic$': '<rootDir>/lib/index.ts' },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // installs the pinned moto (scripts/moto-server.sh) once before any test file; fails the run clearly without it
  globalSetup: '<rootDir>/test/global-setup.ts',
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  testTimeout: 60000,
  // aws-local-stepfunctions keeps the timers of executions a test aborts (the watchdog tests stop executions from
  // outside, as a person would in the console); they would keep the process alive after the last test has passed.
  forceExit: true,
};
