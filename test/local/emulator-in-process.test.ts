/**
 * The emulator's server in process (EmulatorServer.exchange, the simulator's fast-mode transport) answers exactly as
 * it does over HTTP: same status, same JSON text, same faults; through the real Flink REST client, the same results
 * and errors, a slow call past the client's timeout included.
 */
import { FlinkApiError, FlinkRestClient } from '../../functions/adapters/flink/client';
import { send } from '../../functions/adapters/http';
import { startEmulator, type Emulator } from '../../local/emulator';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2 });
  emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1500 });
  emu.clock.advance(10_000);
});
afterAll(() => emu.close());

const both = async (method: string, path: string, body?: string) => {
  const url = new URL(emu.url + path);
  const headers = body !== undefined ? { 'Content-Type': 'application/json' } : {};
  const http = await send({ method, url, headers, body, timeoutMs: 5000 });
  const local = await emu.server.exchange({ method, url, headers, body, timeoutMs: 5000 });
  return { http, local };
};

test.each([
  ['GET', '/overview', undefined],
  ['GET', '/v1/jobs/overview', undefined],
  ['GET', '/taskmanagers', undefined],
  ['GET', '/no/such/route', undefined],
  ['PATCH', '/jobs/not-an-id', undefined],
  ['POST', '/jars/x/run', '{not json'],
])('%s %s: the same status, content type and body text', async (method, path, body) => {
  const { http, local } = await both(method, path, body);
  expect(local.status).toBe(http.status);
  expect(local.headers['content-type']).toBe(http.headers['content-type']);
  expect(local.body.toString('utf8')).toBe(http.body.toString('utf8'));
});

test('faults apply in process as over HTTP: a leader election answers 503, and the client retries it', async () => {
  emu.model.faults.unavailableCalls = 1;
  const r = await emu.server.exchange({ method: 'GET', url: new URL(emu.url + '/overview') });
  expect(r.status).toBe(503);
  emu.model.faults.unavailableCalls = 1;
  const client = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000, retries: 1, retryDelayMs: 1, transport: emu.server.exchange });
  await expect(client.overview()).resolves.toMatchObject({ taskManagers: 2 });
});

test('a slow call past the client timeout fails the same way in process and over HTTP (ETIMEDOUT)', async () => {
  const errors: FlinkApiError[] = [];
  for (const transport of [undefined, emu.server.exchange]) {
    emu.model.faults.slowResponses(400, 1);
    const client = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 100, retries: 0, ...(transport ? { transport } : {}) });
    errors.push(await client.overview().then(() => undefined as never, (e) => e));
  }
  for (const e of errors) expect(e).toBeInstanceOf(FlinkApiError);
  expect(errors.map((e) => [e.code, e.message])).toEqual([
    ['ETIMEDOUT', errors[0].message],
    ['ETIMEDOUT', errors[0].message],
  ]);
  expect(errors[0].message).toMatch(/timeout of 100ms exceeded/);
  await new Promise((r) => setTimeout(r, 500)); // let the slow answers finish
});
