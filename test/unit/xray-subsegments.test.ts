/**
 * AWS SDK calls as X-Ray subsegments (functions/adapters/xray.ts): real SDK clients, a real DynamoDB wire protocol
 * (dynalite) and a UDP listener on loopback standing in for the X-Ray daemon (nothing here runs the daemon: the
 * listener reads the daemon's documented wire format, a header line then the segment document).
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { daemonAddress, parseTraceHeader, xrayTracer } from '../../functions/adapters/xray';
import { startDynalite, type LocalDynamo } from '../support/dynalite';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const PARENT = '53995c3f42cd8ad8';

let daemon: Socket;
let daemonPort: number;
let received: string[] = [];
let dynamo: LocalDynamo;

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (m) => received.push(m.toString('utf8')));
  await new Promise<void>((r) => daemon.bind(0, '127.0.0.1', () => r()));
  daemonPort = (daemon.address() as AddressInfo).port;
  dynamo = await startDynalite('xray-table');
});
afterAll(async () => {
  daemon.close();
  await dynamo.stop();
});
beforeEach(() => {
  received = [];
});

const envFor = (sampled: '0' | '1', extra: Record<string, string> = {}) => ({
  _X_AMZN_TRACE_ID: `Root=${ROOT};Parent=${PARENT};Sampled=${sampled}`,
  AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemonPort}`,
  ...extra,
});

function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}

async function datagrams(n: number): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 100 && received.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  return received.map((m) => {
    const [header, body] = m.split('\n');
    expect(JSON.parse(header)).toEqual({ format: 'json', version: 1 });
    return JSON.parse(body);
  });
}

test('a sampled invocation: each SDK call is one subsegment of the Lambda segment, with operation, region, status and request id', async () => {
  const c = xrayTracer({ env: envFor('1') }).captureAWSv3Client(client(dynamo.endpoint));
  await c.send(new DescribeTableCommand({ TableName: 'xray-table' }));
  const [doc] = await datagrams(1);
  expect(doc).toMatchObject({
    trace_id: ROOT,
    parent_id: PARENT,
    type: 'subsegment',
    namespace: 'aws',
    name: 'DynamoDB',
    aws: { operation: 'DescribeTable', region: 'eu-west-1' },
    http: { response: { status: 200 } },
  });
  expect(doc.id).toMatch(/^[0-9a-f]{16}$/);
  expect((doc.aws as { request_id?: string }).request_id).toEqual(expect.any(String));
  expect(doc.end_time as number).toBeGreaterThanOrEqual(doc.start_time as number);
  expect(doc.error).toBeUndefined();
  c.destroy();
});

describe('against a loopback endpoint that records headers', () => {
  let server: Server;
  let headers: Record<string, string | string[] | undefined>[] = [];
  let status = 400;
  beforeAll(async () => {
    server = createServer((req, res) => {
      headers.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-42' });
        res.end(JSON.stringify({ __type: status === 400 ? 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException' : 'InternalServerError', message: 'no such table' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    headers = [];
  });

  test('the request carries X-Amzn-Trace-Id with the subsegment as Parent; a 4xx is an error with its cause', async () => {
    status = 400;
    const c = xrayTracer({ env: envFor('1') }).captureAWSv3Client(client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    await expect(c.send(new GetItemCommand({ TableName: 'nope', Key: { pk: { S: 'a' } } }))).rejects.toThrow('no such table');
    const [doc] = await datagrams(1);
    expect(headers[0]['x-amzn-trace-id']).toBe(`Root=${ROOT};Parent=${doc.id};Sampled=1`);
    expect(doc).toMatchObject({ error: true, http: { response: { status: 400 } }, aws: { operation: 'GetItem', request_id: 'req-42' } });
    expect(doc.fault).toBeUndefined();
    expect(doc.cause).toMatchObject({ exceptions: [{ type: 'ResourceNotFoundException', message: 'no such table' }] });
    c.destroy();
  });

  test('a 5xx is a fault', async () => {
    status = 500;
    const c = xrayTracer({ env: envFor('1') }).captureAWSv3Client(client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    await expect(c.send(new GetItemCommand({ TableName: 'nope', Key: { pk: { S: 'a' } } }))).rejects.toThrow();
    const [doc] = await datagrams(1);
    expect(doc).toMatchObject({ fault: true, http: { response: { status: 500 } } });
    c.destroy();
  });

  test('not sampled, no trace header, or POWERTOOLS_TRACE_ENABLED=false: nothing sent and no header added', async () => {
    status = 400;
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const env of [envFor('0'), { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemonPort}` }, envFor('1', { POWERTOOLS_TRACE_ENABLED: 'false' })]) {
      const c = xrayTracer({ env }).captureAWSv3Client(client(url));
      await expect(c.send(new GetItemCommand({ TableName: 'nope', Key: { pk: { S: 'a' } } }))).rejects.toThrow();
      c.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toEqual([]);
    expect(headers.map((h) => h['x-amzn-trace-id'])).toEqual([undefined, undefined, undefined]);
  });
});

test('the trace header and the daemon address are parsed as Lambda sets them', () => {
  expect(parseTraceHeader(`Root=${ROOT};Parent=${PARENT};Sampled=1;Lineage=a:0`)).toEqual({ root: ROOT, parent: PARENT, sampled: true });
  expect(parseTraceHeader(`Root=${ROOT};Sampled=1`)).toBeUndefined();
  expect(parseTraceHeader(undefined)).toBeUndefined();
  expect(daemonAddress('169.254.79.129:2000')).toEqual({ host: '169.254.79.129', port: 2000 });
  expect(daemonAddress('tcp:127.0.0.1:2000 udp:127.0.0.2:2001')).toEqual({ host: '127.0.0.2', port: 2001 });
  expect(daemonAddress(undefined)).toEqual({ host: '127.0.0.1', port: 2000 });
});
