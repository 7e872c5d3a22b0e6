import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { parseConfig } from '../../functions/core/config';
import { silentLogger, type WorkflowDeps } from '../../functions/workflow/deps';
import { formatNotification, outcomeOf } from '../../functions/workflow/finish';
import { recoverStep } from '../../functions/workflow/steps';
import type { Plan, WorkflowState } from '../../functions/workflow/types';
import { startEmulator, type Emulator } from '../../local/emulator';
import { FileStateStore } from '../../local/file-state-store';
import { exampleDoc } from '../support/example-config';

const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:FlinkElastic-rescale:e1', name: 'e1' };
const plan = {
  job: 'orders',
  owner: execution.id,
  executionName: 'e1',
  mode: 'savepoint',
  stopWithSavepoint: false,
  direction: 'out',
  route: 'lock',
  dryRun: false,
  respectCooldown: false,
  reason: 'lag high',
  startedBy: 'scaler',
  startedAt: 1_000,
  flinkUrl: 'http://10.0.1.10:8081',
  flinkVersion: '1.14.6',
  flinkJobName: 'Orders',
  from: { jobId: 'a'.repeat(32), parallelism: 4, taskManagers: 2, slotsTotal: 4, slotsAvailable: 0 },
  to: { parallelism: 8, taskManagers: 4, slotsNeeded: 8 },
  vertices: [],
  otherJobsSlots: 0,
  savepointTriggerId: 'b'.repeat(32),
  newJobId: 'c'.repeat(32),
  rollbackJobId: 'd'.repeat(32),
  jarId: 'x_orders.jar',
  timeouts: { slots: 600, savepoint: 900, running: 300, parallelism: 300, drain: 300 },
  lockTtlSeconds: 3600,
  summary: 'parallelism 4 -> 8, TaskManagers 2 -> 4 (savepoint mode)',
} as Plan;
const sp = 's3://state/savepoints/orders/savepoint-1';
const error = { Error: 'WaitTimedOut', Cause: JSON.stringify({ errorMessage: 'Flink job ccc running at parallelism 8 did not happen within 300 s' }) };

test('rollback failed: ACTION REQUIRED, with the exact savepoint and parallelism that restore the job', () => {
  const recoveryError = { Error: 'RollbackFailed', Cause: 'rollback Flink job ddd ended FAILED' };
  const s: WorkflowState = { plan, error, savepointStatus: { done: true, attempts: 1, since: 0, at: 0, detail: '', location: sp }, recoveryError };
  expect(outcomeOf(s)).toBe('failed-rollback-failed');
  const m = formatNotification(s, execution);
  expect(m.subject).toBe('flink-elastic: ACTION REQUIRED: orders is not running; restore it from savepoint');
  expect(m.body).toContain(`Restore the job from savepoint ${sp} at parallelism 4: POST $FLINK_URL/jars/x_orders.jar/run with {"savepointPath": "${sp}", "parallelism": 4}`);
  // the JobManager's address is never in a notification: the job's flink.url stands for it
  expect(m.body).not.toContain('10.0.1.10');
  expect(m.body).toContain('at its flink.url, written $FLINK_URL below');
  expect(m.body).toContain('RollbackFailed: rollback Flink job ddd ended FAILED');
});

test('recovery could not finish (Flink not answering): ACTION REQUIRED says the job may still run, to check first, and restore only if nothing runs', () => {
  const s: WorkflowState = { plan, error, savepointStatus: { done: true, attempts: 1, since: 0, at: 0, detail: '', location: sp }, recoveryError: { Error: 'Transient', Cause: 'connect ECONNREFUSED' } };
  expect(outcomeOf(s)).toBe('failed-recovery-incomplete');
  const m = formatNotification(s, execution);
  expect(m.subject).toBe('flink-elastic: ACTION REQUIRED: orders: recovery incomplete; check the job');
  expect(m.subject).not.toMatch(/not running/);
  expect(m.body).toContain('Transient: connect ECONNREFUSED');
  expect(m.body).toContain(`for Flink jobs ${plan.from.jobId}, ${plan.newJobId}, ${plan.rollbackJobId}`);
  expect(m.body).toContain('If one of them is RUNNING, nothing is lost: leave it.');
  expect(m.body).toContain(`Only if none runs, restore from savepoint ${sp} at parallelism 4`);
});

describe('no savepoint and the job is down (recoverStep against the Flink emulator, then the notification)', () => {
  let emu: Emulator;
  let dir: string;
  beforeEach(async () => {
    emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2 });
    dir = mkdtempSync(join(tmpdir(), 'flink-elastic-notify-'));
  });
  afterEach(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The stopped job as the workflow left it: cancelled, no savepoint taken; recovery decides what to say. */
  async function recoverAfterCancel(program: { checkpointIntervalMs?: number | null }) {
    const flinkJob = emu.model.startJob({ name: 'Orders', parallelism: 4, inputRate: 1000, program });
    emu.clock.advance(120_000);
    const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000, retries: 0, version: '1.19' });
    const checkpoints = await api.checkpoints(flinkJob.id);
    await api.cancel(flinkJob.id);
    emu.clock.advance(10_000);
    expect((await api.job(flinkJob.id)).state).toBe('CANCELED');
    const doc = exampleDoc();
    doc.jobs = [{ ...doc.jobs[0], name: 'orders', flink: { ...doc.jobs[0].flink, url: emu.url, version: '1.19' } }];
    const deps: WorkflowDeps = {
      config: parseConfig(doc),
      store: new FileStateStore(join(dir, 'state.json')),
      flink: () => api,
      target: () => {
        throw new Error('recovery of a stopped job changes no capacity');
      },
      sns: new SNSClient({}),
      topicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      now: () => emu.clock.now(),
      sleep: async (ms) => void emu.clock.advance(ms),
      log: silentLogger,
    };
    const s: WorkflowState = { plan: { ...plan, stopWithSavepoint: true, flinkUrl: emu.url, from: { ...plan.from, jobId: flinkJob.id } }, error };
    s.recovery = await recoverStep(deps, s);
    return { s, checkpoints };
  }

  test('with a retained checkpoint: the notification names the checkpoint the job restores from and the old parallelism', async () => {
    const { s, checkpoints } = await recoverAfterCancel({});
    const latest = checkpoints.latestCompleted?.externalPath;
    expect(latest).toMatch(/chk-\d+$/);
    expect(s.recovery).toMatchObject({ outcome: 'job-down' });
    const m = formatNotification(s, execution);
    expect(m.outcome).toBe('failed-job-down');
    expect(m.subject).toBe('flink-elastic: ACTION REQUIRED: orders is not running; restore it from checkpoint');
    expect(m.body).toContain(`restore from the latest retained checkpoint: ${latest} (submit the jar with savepointPath=${latest}, parallelism=4)`);
  });

  test('without checkpointing: the notification says there is nothing retained and names the Flink job and parallelism', async () => {
    const { s, checkpoints } = await recoverAfterCancel({ checkpointIntervalMs: null });
    expect(checkpoints.enabled).toBe(false);
    const m = formatNotification(s, execution);
    expect(m.outcome).toBe('failed-job-down');
    expect(m.subject).toBe('flink-elastic: ACTION REQUIRED: orders is not running; restore it from checkpoint');
    expect(m.body).toContain('no savepoint completed and no retained checkpoint found; resubmit job "Orders" from your latest externalized checkpoint at parallelism 4');
  });
});

test('kept the new job: says where it runs and what to do if it is unhealthy', () => {
  const s: WorkflowState = { plan, error, savepointStatus: { done: true, attempts: 1, since: 0, at: 0, detail: '', location: sp }, recovery: { outcome: 'kept-new', jobId: 'c'.repeat(32), parallelism: 8, savepointPath: sp, actions: ['kept'], at: 0 } };
  const m = formatNotification(s, execution);
  expect(m.subject).toBe('flink-elastic: ACTION REQUIRED: rescale of orders incomplete; job runs at 8');
  expect(m.body).toContain(`Flink job ${'c'.repeat(32)} runs at parallelism 8. The pre-rescale savepoint is ${sp}.`);
});

test('a plan that this execution did not make is ignored (raw input after a Validate failure)', () => {
  const s = { job: 'orders', plan: { ...plan, owner: 'someone-else' }, error: { Error: 'PreconditionFailed', Cause: 'no running job' } } as never;
  expect(formatNotification(s, execution)).toMatchObject({ outcome: 'rejected', subject: 'flink-elastic: rescale of orders rejected: PreconditionFailed' });
});

test('subjects stay ASCII and under 100 characters', () => {
  const long = { ...plan, job: 'j'.repeat(40) };
  const m = formatNotification({ plan: long, drain: { done: true, timedOut: true, surplus: 3, attempts: 1, since: 0, at: 0, detail: '' } }, execution);
  expect(m.subject.length).toBeLessThan(100);
  expect(m.subject).toMatch(/^[\x20-\x7e]+$/);
});
