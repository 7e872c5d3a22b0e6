/**
 * The real-Flink tier (npm run test:flink): each test file starts real Flink standalone clusters (JobManager and
 * TaskManager JVMs) on this machine, so files run one at a time. FLINK_TIER_VERSIONS (comma-separated, default every
 * pinned version of local/real-flink/flink-distributions.lock.json) picks the Flink versions.
 */
const base = require('./jest.config.js');
module.exports = {
  ...base,
  roots: ['<rootDir>/test/flink'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 10 * 60_000,
  slowTestThreshold: 120,
};
