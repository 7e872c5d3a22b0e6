/**
 * FlinkRestClient pieces that need no server: trigger ids, option validation, error messages, and retries on a
 * refused connection (a closed loopback port).
 */
import { createServer } from 'node:net';
import { FlinkApiError, FlinkRestClient, savepointTriggerId } from '../../functions/adapters/flink/client';
import { chainedOperatorNames, featuresFor, metricOperatorName, versionInfo } from '../../functions/adapters/flink/wire';

test('savepointTriggerId: deterministic 32-hex per seed, different seeds differ', () => {
  const a = savepointTriggerId('arn:aws:states:us-east-1:1:execution:rescale:abc/orders');
  expect(a).toMatch(/^[0-9a-f]{32}$/);
  expect(savepointTriggerId('arn:aws:states:us-east-1:1:execution:rescale:abc/orders')).toBe(a);
  expect(savepointTriggerId('arn:aws:states:us-east-1:1:execution:rescale:abd/orders')).not.toBe(a);
  expect(() => savepointTriggerId('')).toThrow('seed must be a non-empty string');
});

test('constructor options are validated with the field and the allowed range', () => {
  expect(() => new FlinkRestClient({ baseUrl: 'ftp://x', timeoutMs: 1000 })).toThrow('baseUrl must be an http(s) URL');
  expect(() => new FlinkRestClient({ baseUrl: 'http://127.0.0.1:8081', timeoutMs: 0 })).toThrow('timeoutMs must be from 1 to 600000');
  expect(() => new FlinkRestClient({ baseUrl: 'http://127.0.0.1:8081', timeoutMs: 10, retries: 11 })).toThrow('retries must be an integer from 0 to 10');
  expect(() => new FlinkRestClient({ baseUrl: 'http://127.0.0.1:8081', timeoutMs: 10, version: 'latest' })).toThrow('not a Flink version');
});

test('bad arguments are refused before anything is sent', async () => {
  const api = new FlinkRestClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 100, version: '1.19' });
  await expect(api.job('not-a-job')).rejects.toThrow('jobId must be 32 lower-case hex characters');
  await expect(api.triggerSavepoint('a'.repeat(32), { targetDirectory: 's3://b', triggerId: 'x' })).rejects.toThrow('triggerId must be 32 lower-case hex');
  await expect(api.triggerSavepoint('a'.repeat(32), { targetDirectory: '', triggerId: 'a'.repeat(32) })).rejects.toThrow('targetDirectory must be a non-empty string');
  await expect(api.runJar('x.jar', { parallelism: 0 })).rejects.toThrow('parallelism must be an integer from 1 to 32768, got 0');
  await expect(api.uploadJar('job.zip', new Uint8Array())).rejects.toThrow('ending in .jar');
  await expect(api.putResourceRequirements('a'.repeat(32), {})).rejects.toThrow('at least one vertex');
});

test('FlinkApiError says which call, which job, what status and what Flink said', () => {
  const e = new FlinkApiError({ call: 'cancel', jobId: 'ab'.repeat(16), status: 500, errors: ['Job cancellation failed: timeout'], retryable: true, baseUrl: 'http://jm:8081' });
  expect(e.message).toBe(`Flink cancel (job ${'ab'.repeat(16)}) failed: HTTP 500: Job cancellation failed: timeout`);
  expect(e).toBeInstanceOf(Error);
});

test("the JobManager's address never reaches a message (they go to logs and notifications): <flink.url> stands for it", async () => {
  const e = new FlinkApiError({ call: 'overview', status: 502, errors: ['proxy to jm.internal.example:8081 failed (http://jm.internal.example:8081/jobs)'], retryable: true, baseUrl: 'http://jm.internal.example:8081' });
  expect(e.message).not.toMatch(/jm\.internal|8081/);
  expect(e.message).toContain('<flink.url>');
  // a real transport error (a refused loopback port) names the address in Node's message: redacted too
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const api = new FlinkRestClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 500, retries: 0, version: '1.19' });
  const err = (await api.overview().then(() => undefined, (x: unknown) => x)) as FlinkApiError;
  expect(err).toBeInstanceOf(FlinkApiError);
  expect(err.message).not.toContain('127.0.0.1');
  expect(err.message).not.toContain(String(port));
});

test('connection refused is retried with backoff, then a retryable FlinkApiError with the code', async () => {
  // Find a free loopback port, then close it so connecting is refused.
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const delays: number[] = [];
  const api = new FlinkRestClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 500, retries: 2, retryDelayMs: 50, sleep: async (ms) => void delays.push(ms) });
  const err = await api.overview().catch((e) => e);
  expect(err).toMatchObject({ name: 'FlinkApiError', call: 'overview', code: 'ECONNREFUSED', retryable: true, attempts: 3 });
  expect(delays).toEqual([50, 100]);
  // A failed version detection is not cached: the next call tries again.
  await expect(api.version()).rejects.toThrow(FlinkApiError);
  await expect(api.version()).rejects.toThrow(/ECONNREFUSED/);
});

test('wire helpers: version features, metric name sanitising, operator chains', () => {
  expect(featuresFor({ major: 1, minor: 14 })).toMatchObject({ formatType: false, triggerId: false, restoreMode: false, flinkConfiguration: false, resourceRequirements: false, programArgs: true, claimMode: false });
  expect(featuresFor({ major: 1, minor: 16 })).toMatchObject({ flinkConfiguration: true, jobJobManagerConfig: true, resourceRequirements: false });
  expect(featuresFor({ major: 2, minor: 0 })).toMatchObject({ programArgs: false, claimMode: true, resourceRequirements: true });
  expect(versionInfo('1.18-SNAPSHOT')).toMatchObject({ major: 1, minor: 18 });
  expect(metricOperatorName('Source: Kafka Source')).toBe('Source__Kafka_Source');
  expect(metricOperatorName('a.b,c:d e')).toBe('a_b_c_d_e');
  expect(metricOperatorName('x'.repeat(100))).toHaveLength(80);
  expect(chainedOperatorNames('Source: Kafka -> Map -> Filter')).toEqual(['Source: Kafka', 'Map', 'Filter']);
});

test('a configured "major.minor" version is reported as configured, not as an invented ".0" patch release', async () => {
  // The config's flink.version is "1.20" (major.minor); the cluster may run 1.20.5. Reporting "1.20.0" put a
  // release the cluster does not run into every notification ("Flink 1.20.0" for a 1.20.5 cluster).
  const api = new FlinkRestClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 100, version: '1.20' });
  await expect(api.version()).resolves.toMatchObject({ version: '1.20', major: 1, minor: 20 });
  const exact = new FlinkRestClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 100, version: '2.3.0' });
  await expect(exact.version()).resolves.toMatchObject({ version: '2.3.0', major: 2, minor: 3 });
});
