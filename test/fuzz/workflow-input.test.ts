/**
 * Fuzz surface 2: a manual execution's input. Valid inputs (absolute, relative, TaskManager count, drain), mutated
 * structure-aware, plus random values, through `parseRescaleInput`; every accepted input then goes through the
 * whole Validate step against the Flink emulator (2 TaskManagers × 2 slots, the job at parallelism 2). Only
 * InvalidInputError naming the field (or PreconditionError, for the live job), and every plan keeps the bounds.
 */
import fc from 'fast-check';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { parseConfig } from '../../functions/core/config';
import type { WorkflowDeps } from '../../functions/workflow/deps';
import { silentLogger } from '../../functions/workflow/deps';
import { InvalidInputError, PreconditionError } from '../../functions/workflow/errors';
import type { Plan, RescaleInput } from '../../functions/workflow/types';
import { parseRescaleInput, validateStep } from '../../functions/workflow/validate';
import { SimulatedCapacityTarget, startEmulator, type Emulator } from '../../local/emulator';
import { attempt, fuzzParams, hostileInProcess, materialize, mutated, namesMutatedField, randomDoc, surfaceCounts, within } from '../support/fuzz';

const counts = surfaceCounts();

/** A member of the capacity target (known once the emulator runs), for the drain example. */
let member = '';
const bases: [string, () => unknown][] = [
  ['an absolute parallelism', () => ({ job: 'orders', parallelism: 4 })],
  ['a relative change with every option', () => ({ job: 'orders', change: 'x1.5', mode: 'adaptive', reason: 'peak', dryRun: true, startedBy: 'alice', respectCooldown: true })],
  ['a TaskManager count', () => ({ job: 'orders', taskManagers: '+1', mode: 'savepoint', stopWithSavepoint: true })],
  ['draining one TaskManager', () => ({ job: 'orders', taskManagers: '-1', drainTaskManager: member, drainTimeoutSeconds: 120 })],
];
const almostRight = fc.constantFrom('+0', '-0', 'x0', 'x000.000', 'x999.999', '+99999', '-99999', 'x1.', '+', 'x', 'orders', 'Orders', 'savepoint', 'reactive', '-1', '+1');
const values = fc.oneof({ weight: 3, arbitrary: hostileInProcess }, { weight: 1, arbitrary: almostRight });

const ALLOWED = ['job', 'parallelism', 'change', 'taskManagers', 'mode', 'stopWithSavepoint', 'reason', 'dryRun', 'startedBy', 'respectCooldown', 'drainTimeoutSeconds', 'drainTaskManager'];

function inputViolations(i: RescaleInput): string[] {
  const bad: string[] = [];
  if (Object.keys(i).some((k) => !ALLOWED.includes(k))) bad.push('only known fields');
  if ([i.parallelism, i.change, i.taskManagers].filter((v) => v !== undefined).length !== 1) bad.push('exactly one of parallelism, change, taskManagers');
  if (i.parallelism !== undefined && !(Number.isInteger(i.parallelism) && i.parallelism >= 1 && i.parallelism <= 32768)) bad.push('parallelism 1..32768');
  if (i.drainTaskManager !== undefined && i.taskManagers !== '-1') bad.push('drainTaskManager only with taskManagers "-1"');
  return bad;
}

const BOUNDS = { minParallelism: 1, maxParallelism: 8, minTaskManagers: 1, maxTaskManagers: 4 };

function planViolations(p: Plan): string[] {
  const bad: string[] = [];
  const int = (x: number) => Number.isInteger(x);
  if (!(int(p.to.parallelism) && p.to.parallelism >= BOUNDS.minParallelism && p.to.parallelism <= BOUNDS.maxParallelism)) bad.push(`to.parallelism ${p.to.parallelism} within bounds`);
  if (!(int(p.to.taskManagers) && p.to.taskManagers >= BOUNDS.minTaskManagers && p.to.taskManagers <= BOUNDS.maxTaskManagers)) bad.push(`to.taskManagers ${p.to.taskManagers} within bounds`);
  if (p.to.taskManagers * 2 < p.to.slotsNeeded + p.otherJobsSlots) bad.push('enough slots for the plan');
  if (!p.vertices.every((v) => int(v.to) && v.to >= 1 && (v.maxParallelism <= 0 || v.to <= v.maxParallelism))) bad.push('vertex targets 1..maxParallelism');
  const dir = p.to.parallelism > p.from.parallelism ? 'out' : p.to.parallelism < p.from.parallelism ? 'in' : 'none';
  if (p.direction !== dir) bad.push(`direction ${p.direction} for ${p.from.parallelism} → ${p.to.parallelism}`);
  return bad;
}

let emu: Emulator;
let deps: WorkflowDeps;
beforeAll(async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2 });
  emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1000 });
  emu.clock.advance(30_000);
  const config = parseConfig({
    jobs: [{
      name: 'orders', flink: { url: emu.url, version: '1.19' }, mode: 'savepoint', submit: { jarId: emu.model.jars[0].id }, savepoint: { directory: 'file:///tmp/sp' },
      target: { kind: 'asg', autoScalingGroupName: 'tms' }, slotsPerTaskManager: 2, bounds: BOUNDS,
    }],
  });
  const flink = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000, retries: 0, version: '1.19' });
  const target = new SimulatedCapacityTarget(emu.model, { bootDelayMs: 1000 });
  member = (await target.describe(await flink.taskManagers())).members[0].id;
  // Validate reads only: the store, SNS and the jar source are never reached
  deps = { config, flink: () => flink, target: () => target, now: () => emu.clock.now(), sleep: async () => {}, log: silentLogger, topicArn: 'arn:aws:sns:us-east-1:1:t' } as unknown as WorkflowDeps;
});
afterAll(() => emu.close());

/** Problems of an InvalidInputError: each with a field, printed as "field: message", naming a mutated field. */
function expectNamedInputRefusal(err: unknown, mutatedPaths: string[] | undefined): void {
  expect(err).toBeInstanceOf(InvalidInputError);
  const e = err as InvalidInputError;
  expect(e.name).toBe('InvalidInput');
  expect(e.problems.length).toBeGreaterThan(0);
  expect(e.message.length).toBeLessThan(3000);
  for (const p of e.problems) {
    expect(p.field.length).toBeGreaterThan(0);
    expect(e.message).toContain(`${p.field}: ${p.message}`);
  }
  if (mutatedPaths) {
    // unknown fields are reported for the whole input, "(input)"; the message names them
    const unnamed = e.problems.filter((p) => !namesMutatedField(p.field === '(input)' ? '' : p.field, p.message, mutatedPaths));
    expect({ mutatedPaths, unnamed }).toEqual({ mutatedPaths, unnamed: [] });
  }
}

async function check(raw: unknown, mutatedPaths: string[] | undefined): Promise<void> {
  const c = counts.of('manual execution input (parseRescaleInput)');
  c.tried++;
  const r = attempt(1000, 'parseRescaleInput', () => parseRescaleInput(raw));
  if (!r.ok) {
    c.refused++;
    expectNamedInputRefusal(r.error, mutatedPaths);
    return;
  }
  c.accepted++;
  expect(inputViolations(r.value)).toEqual([]);
  // the whole Validate step, against the live (emulated) job
  const v = counts.of('manual execution input (Validate step)');
  v.tried++;
  const plan = await within(5000, 'validateStep', validateStep(deps, raw, { id: 'arn:exec:fuzz', name: 'fuzz' })).catch((e: unknown) => e);
  if (plan instanceof PreconditionError) {
    v.refused++;
    return;
  }
  if (plan instanceof Error) {
    v.refused++;
    expectNamedInputRefusal(plan, mutatedPaths);
    return;
  }
  v.accepted++;
  expect(planViolations(plan as Plan)).toEqual([]);
}

test.each(bases)('%s, mutated: only InvalidInputErrors naming the field; accepted plans keep the bounds', async (_what, base) => {
  await fc.assert(
    fc.asyncProperty(mutated(base(), 3, values), ({ doc, paths }) => check(materialize(doc), paths)),
    fuzzParams(250),
  );
});

test('random values: only InvalidInputErrors, each problem printed with its field', async () => {
  await fc.assert(
    fc.asyncProperty(randomDoc(ALLOWED), (doc) => check(materialize(doc), undefined)),
    fuzzParams(300),
  );
});

describe('found by fuzzing (kept as regression examples)', () => {
  test('a 100,000-character job name is not echoed into the error message', async () => {
    const raw = { job: 'y'.repeat(100_000), parallelism: 4 };
    expect(() => parseRescaleInput(raw)).toThrow(/^invalid rescale request: job: must be a configured job name/);
    await check(raw, ['job']);
  });
});
