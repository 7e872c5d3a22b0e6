/**
 * `submit.jarPath` as documented: when the JobManager has no jar of that name (a session cluster that restarted lost
 * its uploads), the workflow reads the jar from the path (local file or s3://) and uploads it with POST
 * /jars/upload before it touches the job; the resubmission then runs from that jar. Against the emulator over HTTP,
 * with the synthesized state machine and the real step handlers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { JarSourceError, LocalOrS3JarSource } from '../../functions/adapters/jar-source';
import type { JobConfigInput } from '../../functions/core/config';
import { startEmulator, SimulatedCapacityTarget, type Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { useMoto } from '../support/moto';
import { TOPIC_ARN, WorkflowHarness } from '../support/workflow-harness';

// S3 and SNS on moto (loopback): the jar is a real object in a real bucket (a wrong key is moto's own NoSuchKey), and
// notifications are read back from the topic (test/README.md).
const moto = useMoto();
const BUCKET = 'example-flink-artifacts';
const s3 = () => new S3Client({ ...moto.config, forcePathStyle: true });
let dynamo: LocalDynamo;
let emu: Emulator | undefined;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.stop());
beforeEach(async () => {
  const { TopicArn } = await new SNSClient(moto.config).send(new CreateTopicCommand({ Name: TOPIC_ARN.split(':').pop()! }));
  expect(TopicArn).toBe(TOPIC_ARN);
  await s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/** The job's program, as the emulator reads a jar: a JSON ProgramSpec (docs/emulator.md). */
const PROGRAM = { entryClass: 'com.example.orders.OrdersJob', jobName: 'orders', stream: 'orders' };
const jarBytes = () => Buffer.from(JSON.stringify(PROGRAM));

async function setup(jarPath: string) {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2, record: true });
  const target = new SimulatedCapacityTarget(emu.model, { bootDelayMs: 30_000 });
  const job: JobConfigInput = {
    name: 'orders',
    flink: { url: emu.url, version: '1.19' },
    submit: { jarPath, entryClass: PROGRAM.entryClass },
    savepoint: { directory: 's3://state/savepoints/orders', timeoutSeconds: 300 },
    target: { kind: 'asg', autoScalingGroupName: 'orders-tms' },
    slotsPerTaskManager: 2,
    bounds: { minParallelism: 1, maxParallelism: 8, minTaskManagers: 1, maxTaskManagers: 4 },
  } as JobConfigInput;
  const jars = new LocalOrS3JarSource(s3());
  const h = new WorkflowHarness({ emulator: emu, dynamo, target, sns: new SNSClient(moto.config), jobs: [job], jars });
  const running = emu.model.startJob({ name: 'orders', parallelism: 2, program: PROGRAM, inputRate: 1000 });
  await h.elapse(40_000);
  // The session cluster restarts: its web upload directory is gone, the job keeps running (HA restores it).
  emu.model.jars.splice(0);
  expect(await h.flink.jars()).toEqual([]);
  return { h, emu: emu!, running };
}

const uploads = (e: Emulator) => e.server.exchanges.filter((x) => x.method === 'POST' && x.path === '/jars/upload');

test('a local jarPath is uploaded when GET /jars shows no jar of that name, and the resubmission runs from it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jar-upload-'));
  const path = join(dir, 'orders-1.4.0.jar');
  writeFileSync(path, jarBytes());
  const { h, emu, running } = await setup(path);

  const r = await h.run({ job: 'orders', parallelism: 4 }, 'upload-local');

  expect(r.status).toBe('SUCCEEDED');
  expect(r.finalState.record.outcome).toBe('succeeded');
  const jars = await h.flink.jars();
  expect(jars).toHaveLength(1);
  expect(jars[0].id).toMatch(/^[0-9a-f-]{36}_orders-1\.4\.0\.jar$/);
  expect(jars[0].entryClasses).toEqual([PROGRAM.entryClass]); // the bytes of the file, not a stand-in
  expect(uploads(emu)).toHaveLength(1);
  // as Flink answers (rest_v1_dispatcher.yml JarUploadResponseBody): the stored file's path and "success"
  expect(uploads(emu)[0]).toMatchObject({ status: 200, contentType: expect.stringMatching(/^multipart\/form-data; boundary=/) });
  expect(uploads(emu)[0].response).toEqual({ filename: `/tmp/flink-web-upload/${jars[0].id}`, status: 'success' });
  // the new job runs from the uploaded jar, restored from the rescale's savepoint
  const now = emu.model.findJob('orders')!;
  expect(now.id).not.toBe(running.id);
  expect(now.jarId).toBe(jars[0].id);
  expect(now.restoredFrom?.path).toBe(r.finalState.savepointStatus.location);
  expect(now.vertices.map((v) => v.parallelism)).toEqual([4, 4, 4]);
}, 60_000);

test('an s3:// jarPath is read from exactly that object and uploaded', async () => {
  await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'jobs/orders-1.4.0.jar', Body: jarBytes() }));
  // a decoy next to it: reading the wrong key would upload a jar with another entry class
  await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'jobs/orders-1.3.0.jar', Body: Buffer.from(JSON.stringify({ ...PROGRAM, entryClass: 'com.example.Wrong' })) }));
  const { h, emu } = await setup('s3://example-flink-artifacts/jobs/orders-1.4.0.jar');

  const r = await h.run({ job: 'orders', parallelism: 3 }, 'upload-s3');

  expect(r.status).toBe('SUCCEEDED');
  const jars = await h.flink.jars();
  expect(jars.map((j) => j.name)).toEqual(['orders-1.4.0.jar']);
  expect(jars[0].entryClasses).toEqual([PROGRAM.entryClass]); // the object's bytes
  expect(emu.model.findJob('orders')!.vertices.map((v) => v.parallelism)).toEqual([3, 3, 3]);
}, 60_000);

test('a jar that is already there is not uploaded again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jar-upload-'));
  const path = join(dir, 'orders-1.4.0.jar');
  writeFileSync(path, jarBytes());
  const { h, emu } = await setup(path);
  expect((await h.run({ job: 'orders', parallelism: 4 }, 'first')).status).toBe('SUCCEEDED');
  expect((await h.run({ job: 'orders', parallelism: 2 }, 'second')).status).toBe('SUCCEEDED');
  expect(uploads(emu)).toHaveLength(1);
  expect(await h.flink.jars()).toHaveLength(1);
}, 60_000);

test('a jar that cannot be read fails the rescale before anything touches the job, naming the path and why', async () => {
  const { h, emu, running } = await setup('s3://example-flink-artifacts/jobs/missing.jar');

  const r = await h.run({ job: 'orders', parallelism: 4 }, 'upload-missing');

  expect(r.status).toBe('FAILED');
  const [n] = await moto.server.published(TOPIC_ARN);
  expect(n.message).toContain('no uploaded jar named "missing.jar"');
  expect(n.message).toContain('cannot read the jar s3://example-flink-artifacts/jobs/missing.jar: NoSuchKey: The specified key does not exist.');
  expect(n.message).toContain('the job was not touched');
  // untouched: the same Flink job still runs at its old parallelism, no savepoint was taken
  expect(emu.model.findJob('orders')!.id).toBe(running.id);
  expect(emu.model.requireJob(running.id).state).toBe('RUNNING');
  expect(emu.model.savepoints.size).toBe(0);
  expect(uploads(emu)).toHaveLength(0);
}, 60_000);

describe('LocalOrS3JarSource', () => {
  const src = new LocalOrS3JarSource(() => new S3Client({ region: 'us-east-1' }));
  test('reads local paths and file:// URIs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jar-src-'));
    const path = join(dir, 'a.jar');
    writeFileSync(path, 'PK');
    expect(Buffer.from(await src.read(path)).toString()).toBe('PK');
    expect(Buffer.from(await src.read(`file://${path}`)).toString()).toBe('PK');
  });
  test('names the location and the reason when it cannot read it', async () => {
    await expect(src.read('/nonexistent/a.jar')).rejects.toThrow(new JarSourceError('/nonexistent/a.jar', "ENOENT: no such file or directory, open '/nonexistent/a.jar'"));
    await expect(src.read('https://example.com/a.jar')).rejects.toThrow('cannot read the jar https://example.com/a.jar: only local paths, file:// and s3:// locations are supported');
  });
});
