import { formatNotification, outcomeOf } from '../../functions/workflow/finish';
import type { Plan, WorkflowState } from '../../functions/workflow/types';

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
  const s: WorkflowState = { plan, error, savepointStatus: { done: true, attempts: 1, since: 0, at: 0, detail: '', location: sp }, recoveryError: { Error: 'Transient', Cause: 'connect ECONNREFUSED' } };
  expect(outcomeOf(s)).toBe('failed-rollback-failed');
  const m = formatNotification(s, execution);
  expect(m.subject).toBe('flink-elastic: ACTION REQUIRED: orders is not running; restore it from savepoint');
  expect(m.body).toContain(`Restore the job from savepoint ${sp} at parallelism 4: POST http://10.0.1.10:8081/jars/x_orders.jar/run with {"savepointPath": "${sp}", "parallelism": 4}`);
  expect(m.body).toContain('Transient: connect ECONNREFUSED');
});

test('no savepoint and the job is down: points at the latest retained checkpoint', () => {
  const s: WorkflowState = {
    plan: { ...plan, stopWithSavepoint: true },
    error,
    recovery: { outcome: 'job-down', actions: [], manualAction: 'no savepoint completed; restore from the latest retained checkpoint: s3://cp/chk-42 (...)', at: 0 },
  };
  const m = formatNotification(s, execution);
  expect(m.outcome).toBe('failed-job-down');
  expect(m.subject).toContain('restore it from checkpoint');
  expect(m.body).toContain('s3://cp/chk-42');
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
