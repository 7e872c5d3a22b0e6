/**
 * The CLI in deployed mode against mocked AWS clients (aws-sdk-client-mock: CloudFormation, Step Functions), the
 * state table on dynalite, and bad arguments / help for every command.
 */
import 'aws-sdk-client-mock-jest';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { runCli } from '../../../bin/cli';
import { DynamoStateStore } from '../../../functions/adapters/state/dynamo';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:FlinkElastic-rescale';
let db: LocalDynamo;
let configFile: string;

beforeAll(async () => {
  db = await startDynalite();
  const dir = mkdtempSync(join(tmpdir(), 'flink-elastic-cli-'));
  configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      jobs: [{
        name: 'orders',
        flink: { url: 'http://127.0.0.1:9', version: '1.19', requestTimeoutMs: 500 },
        submit: { jarId: 'x_orders.jar' },
        savepoint: { directory: 's3://b/sp' },
        target: { kind: 'asg', autoScalingGroupName: 'tm' },
        slotsPerTaskManager: 2,
        bounds: { minParallelism: 1, maxParallelism: 16, minTaskManagers: 1, maxTaskManagers: 8 },
      }],
    }),
  );
});
afterAll(() => db.stop());
beforeEach(() => {
  cfn.reset();
  sfn.reset();
  cfn.on(DescribeStacksCommand, { StackName: 'FlinkElastic' }).resolves({
    Stacks: [{ StackName: 'FlinkElastic', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [
      { OutputKey: 'StateMachineArn', OutputValue: SM },
      { OutputKey: 'StateTableName', OutputValue: db.tableName },
      { OutputKey: 'NotificationTopicArn', OutputValue: 'arn:aws:sns:us-east-1:123456789012:t' },
    ] }],
  });
});

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--config', configFile, ...args], {
    out: (s) => void out.push(s),
    err: (s) => void err.push(s),
    services: {
      sleep: async () => {},
      user: () => 'cli:alice',
      dynamo: () => db.client,
      flinkForJob: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:9');
      },
    },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);
const plan = (over: object = {}) => ({
  job: 'orders', owner: 'EXEC', executionName: 'n', mode: 'savepoint', stopWithSavepoint: false, direction: 'out', route: 'lock', dryRun: false,
  respectCooldown: false, reason: 'flink-elastic scale-out (CLI)', startedBy: 'cli:alice', startedAt: T0, flinkUrl: 'http://fl', flinkVersion: '1.19.0',
  flinkJobName: 'orders', from: { jobId: 'a'.repeat(32), parallelism: 4, taskManagers: 2, slotsTotal: 4, slotsAvailable: 0 },
  to: { parallelism: 8, taskManagers: 4, slotsNeeded: 8 }, vertices: [], otherJobsSlots: 0, savepointTriggerId: 't', newJobId: 'b'.repeat(32),
  rollbackJobId: 'c'.repeat(32), savepointDirectory: 's3://b/sp', timeouts: { slots: 600, savepoint: 900, running: 300, parallelism: 300, drain: 300 },
  lockTtlSeconds: 3600, summary: 'parallelism 4 -> 8, TaskManagers 2 -> 4 (savepoint mode)', ...over,
});
const ev = (id: number, s: number, type: string, e: object) => ({ id, timestamp: new Date(T0 + s * 1000), type: type as any, ...e });

function mockExecution(name: RegExp, events: object[], final: { status: string; output?: object; error?: string; cause?: string }) {
  const arn = `${SM.replace(':stateMachine:', ':execution:')}:x`;
  sfn.on(StartExecutionCommand).callsFake((i) => {
    expect(i.name).toMatch(name);
    return { executionArn: arn, startDate: new Date() };
  });
  sfn.on(GetExecutionHistoryCommand).resolvesOnce({ events: events.slice(0, 2) as any }).resolves({ events: events as any });
  sfn.on(DescribeExecutionCommand)
    .resolvesOnce({ status: 'RUNNING', executionArn: arn, stateMachineArn: SM, startDate: new Date() })
    .resolves({ executionArn: arn, stateMachineArn: SM, startDate: new Date(), status: final.status as any, output: final.output ? JSON.stringify(final.output) : undefined, error: final.error, cause: final.cause });
  return arn;
}

describe('deployed mode', () => {
  test('scale-out starts the deployed workflow with the validated input and follows it to success', async () => {
    const p = plan({ owner: 'EXECARN' });
    const done = { plan: p, capacity: { previous: 2, desired: 4, changed: true, at: T0 + 2000 }, savepointStatus: { done: true, location: 's3://b/sp/savepoint-1', attempts: 1, since: T0, at: T0 + 5000, detail: 'savepoint completed' }, running: { done: true, attempts: 1, since: T0, at: T0 + 9000, detail: 'RUNNING' }, record: { at: T0 + 10_000, outcome: 'succeeded' } };
    const arn = mockExecution(/^orders-scale-out-\d{8}T\d{6}-[0-9a-f]{4}$/, [
      ev(1, 0, 'TaskStateEntered', { stateEnteredEventDetails: { name: 'Validate', input: '{}' } }),
      ev(2, 1, 'TaskStateExited', { stateExitedEventDetails: { name: 'Validate', output: JSON.stringify({ plan: p }) } }),
      ev(3, 1, 'TaskStateEntered', { stateEnteredEventDetails: { name: 'EnsureCapacity', input: '{}' } }),
      ev(4, 2, 'TaskStateExited', { stateExitedEventDetails: { name: 'EnsureCapacity', output: JSON.stringify(done) } }),
      ev(5, 10, 'SucceedStateEntered', { stateEnteredEventDetails: { name: 'Done', input: JSON.stringify(done) } }),
    ], { status: 'SUCCEEDED', output: done });
    const r = await cli('scale-out', '--job', 'orders', '--task-managers', '2');
    expect(r.code).toBe(0);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!);
    expect(input).toEqual({ job: 'orders', taskManagers: '+2', reason: 'flink-elastic scale-out (CLI)', startedBy: 'cli:alice' });
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.stateMachineArn).toBe(SM);
    expect(r.out).toContain(`Started ${arn}`);
    expect(r.out).toMatch(/✓ Validate \(1\.0 s\): parallelism 4 -> 8, TaskManagers 2 -> 4/);
    expect(r.out).toMatch(/✓ EnsureCapacity \(1\.0 s\): desired 2 -> 4/);
    expect(r.out).toMatch(/SUCCEEDED: .*orders rescaled 4 -> 8/);
    expect(r.out).toContain('s3://b/sp/savepoint-1');
  });

  test('a failed execution: progress shows the failing step, the outcome says what happened, exit code 1', async () => {
    const p = plan({ direction: 'in', to: { parallelism: 2, taskManagers: 1, slotsNeeded: 2 } });
    const failedState = { plan: p, error: { Error: 'SavepointFailed', Cause: JSON.stringify({ errorType: 'SavepointFailed', errorMessage: 'savepoint of Flink job aaa failed: disk full' }) }, recovery: { outcome: 'untouched', jobId: 'a'.repeat(32), parallelism: 4, actions: [], at: T0 + 4000 } };
    mockExecution(/^orders-scale-in-/, [
      ev(1, 0, 'TaskStateEntered', { stateEnteredEventDetails: { name: 'PollSavepoint', input: '{}' } }),
      ev(2, 3, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: 'SavepointFailed', cause: JSON.stringify({ errorMessage: 'savepoint of Flink job aaa failed: disk full' }) } }),
      ev(3, 4, 'FailStateEntered', { stateEnteredEventDetails: { name: 'Failed', input: JSON.stringify(failedState) } }),
    ], { status: 'FAILED', error: 'RescaleFailed', cause: 'The rescale did not complete' });
    const r = await cli('scale-in', '--job', 'orders', '--task-managers', '1', '--drain-timeout', '5m', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!)).toMatchObject({ taskManagers: '-1', drainTimeoutSeconds: 300 });
    expect(r.err).toContain('✗ PollSavepoint: SavepointFailed: savepoint of Flink job aaa failed: disk full');
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ status: 'FAILED', outcome: 'failed-untouched', error: { error: 'RescaleFailed' }, steps: [{ state: 'PollSavepoint', ms: 3000, failed: true }] });
    expect(report.message).toContain('disk full');
  });

  test('--no-wait prints the execution ARN and does not follow', async () => {
    const arn = mockExecution(/^orders-rescale-/, [], { status: 'RUNNING' });
    const r = await cli('rescale', '--job', 'orders', '--parallelism', '6', '--mode', 'adaptive', '--no-wait');
    expect(r.code).toBe(0);
    expect(r.out).toBe(arn);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!)).toMatchObject({ parallelism: 6, mode: 'adaptive' });
    expect(sfn).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
  });

  test('drain and --dry-run put their fields in the execution input', async () => {
    mockExecution(/^orders-drain-/, [], { status: 'RUNNING' });
    const r = await cli('drain', '--job', 'orders', '--task-manager', 'i-0abc', '--dry-run', '--no-wait', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ status: 'RUNNING', input: { taskManagers: '-1', drainTaskManager: 'i-0abc', dryRun: true } });
  });

  test('status reads the lock, its execution and history from the table; an unreachable JobManager is reported and fails the command (exit 1)', async () => {
    const store = new DynamoStateStore({ tableName: db.tableName, client: db.client });
    const exec = `${SM.replace(':stateMachine:', ':execution:')}:orders-rescale-1`;
    await store.acquireLock('orders', exec, { now: Date.now(), ttlSeconds: 600, reason: 'parallelism 4 -> 8' });
    await store.appendHistory({ kind: 'rescale', job: 'orders', at: T0, id: 'r1', detail: { outcome: 'succeeded', startedBy: 'scaler', before: { parallelism: 2, taskManagers: 1 }, after: { parallelism: 4, taskManagers: 2 }, phases: { totalMs: 95_000 } } });
    await store.appendHistory({ kind: 'decision', job: 'orders', at: T0 + 60_000, id: 'd1', detail: { outcome: 'skipped', reason: 'within cooldown', fromParallelism: 4, toParallelism: 4 } });
    sfn.on(DescribeExecutionCommand, { executionArn: exec }).resolves({ status: 'RUNNING', executionArn: exec, stateMachineArn: SM, startDate: new Date() });
    const r = await cli('status', '--json');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/could not read 1 part\(s\):\n {2}job orders: Flink: connect ECONNREFUSED/);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ where: 'deployed', stackName: 'FlinkElastic' });
    expect(s.jobs[0]).toMatchObject({
      job: 'orders',
      flink: { error: expect.stringContaining('ECONNREFUSED') },
      lock: { owner: exec, reason: 'parallelism 4 -> 8', execution: { status: 'RUNNING' } },
      lastRescale: { outcome: 'succeeded', change: 'parallelism 2 -> 4, TaskManagers 1 -> 2', durationMs: 95_000 },
      lastDecisions: [{ outcome: 'skipped', reason: 'within cooldown' }],
    });
    const h = await cli('history', '--job', 'orders');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/2026-11-22 08:01:00Z\s+decision\s+skipped/);
    expect(h.out).toMatch(/2026-11-22 08:00:00Z\s+rescale\s+succeeded\s+parallelism 2 -> 4, TaskManagers 1 -> 2\s+95\.0 s\s+scaler/);
    await store.releaseLock('orders', exec);
  });

  test('a missing stack says how to fix it', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'Other' }).rejects(new Error('Stack with id Other does not exist'));
    const r = await cli('rescale', '--job', 'orders', '--parallelism', '4', '--stack', 'Other');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/stack "Other" does not exist.*cdk deploy.*--local/);
  });
});

describe('bad arguments: a clear error naming the option and the allowed range, exit code 2, nothing started', () => {
  test.each([
    [['scale-out', '--job', 'orders'], /required option '--task-managers <n>'/],
    [['scale-out', '--job', 'orders', '--task-managers', '0'], /--task-managers must be an integer from 1 to 1000 \(got "0"\)/],
    [['scale-in', '--job', 'orders', '--task-managers', '1', '--drain-timeout', '5x'], /--drain-timeout must be a duration like 300s, 5m or 1h \(got "5x"\)/],
    [['scale-in', '--job', 'orders', '--task-managers', '1', '--drain-timeout', '3h'], /--drain-timeout must be from 10s to 2h/],
    [['rescale', '--job', 'orders', '--parallelism', '2.5'], /--parallelism must be an integer from 1 to 32768/],
    [['rescale', '--job', 'orders', '--parallelism', '4', '--mode', 'fast'], /--mode/],
    [['rescale', '--job', 'nope', '--parallelism', '4'], /--job "nope" is not in the config; configured jobs: orders/],
    [['rescale', '--job', 'orders', '--parallelism', '4', '--local'], /--local needs --flink-url/],
    [['rescale', '--job', 'orders', '--parallelism', '4', '--flink-url', 'http://127.0.0.1:1'], /--flink-url only apply with --local/],
    [['rescale', '--job', 'orders', '--parallelism', '4', '--local', '--flink-url', 'ftp://x'], /--flink-url must start with http/],
    [['rescale', '--job', 'orders', '--parallelism', '4', '--local', '--flink-url', 'http://127.0.0.1:1', '--no-wait'], /--no-wait needs the deployed stack/],
    [['drain', '--job', 'orders'], /required option '--task-manager <id>'/],
    [['history', '--job', 'orders', '--limit', '0'], /--limit must be an integer from 1 to 1000/],
    [['history'], /required option '--job <name>'/],
    [['status', '--job', 'Bad_Name'], /--job must be a job name/],
  ])('%j', async (args, message) => {
    const r = await cli(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test.each(['status', 'scale-out', 'scale-in', 'rescale', 'drain', 'history'])('%s --help has an Example section', async (command) => {
    const r = await cli(command, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Example:\n\s+\$ flink-elastic /);
  });
});

describe('validate: a verdict for people and one for scripts', () => {
  const write = (doc: unknown) => {
    const f = join(mkdtempSync(join(tmpdir(), 'flink-elastic-validate-')), 'c.json');
    writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return f;
  };
  const run = async (file: string, ...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--config', file, 'validate', ...args], { out: (x) => void out.push(x), err: (x) => void err.push(x) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const bad = () => {
    const doc = JSON.parse(readFileSync(configFile, 'utf8'));
    doc.jobs[0].slotsPerTaskManager = 0;
    doc.jobs[0].bounds.maxParallelism = 'lots';
    return write(doc);
  };

  test('--json lists every problem of a bad file on stdout with its path, and exits 1', async () => {
    const file = bad();
    const r = await run(file, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ valid: false, file });
    expect(report.problems).toEqual(
      expect.arrayContaining([
        { path: 'jobs[0].slotsPerTaskManager', message: expect.stringMatching(/from 1 to 256/), value: 0 },
        expect.objectContaining({ path: 'jobs[0].bounds.maxParallelism', value: 'lots' }),
      ]),
    );
    expect(r.err).toMatch(/is invalid \(\d+ problems\)/);
  });

  test('--json for a good file: valid, no problems, the job names and the config with defaults', async () => {
    const r = await run(configFile, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ valid: true, file: configFile, problems: [], jobs: ['orders'] });
    expect(report.config.jobs[0]).toMatchObject({ name: 'orders', mode: 'savepoint', drainTimeoutSeconds: 300 });
  });

  test('a file that is not JSON is one problem at the root', async () => {
    const r = await run(write('{ "jobs": ['), '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).problems).toEqual([{ path: '', message: expect.stringMatching(/^not valid JSON/) }]);
  });

  test('without --json: the problems on stderr, nothing on stdout, exit 1', async () => {
    const r = await run(bad());
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/- jobs\[0\]\.slotsPerTaskManager: must be an integer from 1 to 256 \(got 0\)/);
  });
});

test('--version prints the package version', async () => {
  const r = await cli('--version');
  expect(r.code).toBe(0);
  expect(r.out.trim()).toBe(JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')).version);
});
