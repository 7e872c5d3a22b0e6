/**
 * `simulate --config`: the user's own config, as `validate` accepts it, runs in the simulator with every job mapped
 * onto its emulator faithfully (jar id or jar name, entry class, program arguments, slots, bounds, mode, Flink
 * version, lag and CPU sources, capacity target kind), and a rescale that fails makes the run fail loudly.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli';
import { FlinkModel, type Emulator, type SimulatedCapacityTarget } from '../../local/emulator';
import { renderReport } from '../../local/report';
import { reportInput, simulate, sourceLag, summaryText, type SimulationResult } from '../../local/simulator';
import { parseConfig } from '../../functions/core/config';

const EXAMPLE = JSON.parse(readFileSync(join(__dirname, '../../flink-elastic.config.json'), 'utf8'));
/** 1,500 rec/s, then 6,000 rec/s from minute 2 to minute 20. */
const STEP = 'time,records_per_second\n0,1500\n120,6000\n1200,6000\n';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

describe('the repository example config (4 jobs: MSK, Kinesis, CloudWatch and pendingRecords lag; ASG, EKS Deployment and FlinkDeployment targets)', () => {
  let run: SimulationResult;
  const world = new Map<string, { emulator: Emulator; target: SimulatedCapacityTarget }>();
  beforeAll(async () => {
    run = await simulate({
      config: EXAMPLE,
      configSource: 'flink-elastic.config.json',
      trace: { csv: STEP, file: 'step.csv' },
      onTick: (t, jobs) => {
        if (t === 0) for (const j of jobs) world.set(j.job, { emulator: j.emulator, target: j.target });
      },
    });
  }, 120_000);

  test('every job runs and no rescale fails', () => {
    expect(run.jobs.map((j) => j.job)).toEqual(['orders-enrichment', 'clickstream-sessions', 'tenant-billing', 'fraud-scoring']);
    expect(run.jobs.flatMap((j) => j.failures)).toEqual([]);
    expect(summaryText(run)).not.toContain('FAILED');
    for (const job of ['orders-enrichment', 'clickstream-sessions', 'fraud-scoring']) {
      expect(run.executions.filter((e) => e.job === job && e.outcome === 'succeeded').length).toBeGreaterThanOrEqual(1);
    }
    // reactive: capacity follows the load (no workflow needed to scale out)
    expect(run.jobs.find((j) => j.job === 'tenant-billing')!.finalTaskManagers).toBeGreaterThan(2);
  });

  test('the savepoint jobs are resubmitted from their own jar and entry class, with their program arguments', () => {
    const orders = world.get('orders-enrichment')!.emulator.model;
    const newest = orders.jobs.filter((j) => j.name === 'Orders Enrichment').pop()!;
    expect(orders.profile.line).toBe('1.14');
    expect(newest.restoredFrom?.isSavepoint).toBe(true);
    expect(newest.jarId).toBe('8f1c6a2e-5a4b-4c1e-9d2f-0b7e3c9a1d11_orders-enrichment.jar');
    expect(newest.program.entryClass).toBe('com.example.orders.EnrichmentJob');
    // the pinned source stays at 1 (fixed in the job's code), the rest follows the rescale
    expect(newest.vertices.map((v) => [v.name, v.parallelism])).toEqual([
      ['Source: Kafka Orders', 1],
      ['KeyedProcess', run.jobs[0].finalParallelism],
      ['Sink: Kafka Sink', run.jobs[0].finalParallelism],
    ]);
    const fraud = world.get('fraud-scoring')!.emulator.model;
    const fraudJob = fraud.jobs.filter((j) => j.name === 'fraud-scoring').pop()!;
    expect(fraud.jars.find((j) => j.id === fraudJob.jarId)!.name).toBe('fraud-scoring-2.3.1.jar');
    expect(fraudJob.flinkConfiguration).toEqual({ 'execution.checkpointing.interval': '30s' });
  });

  test('each job keeps its mode, slots and bounds; targets keep their kind', () => {
    const click = world.get('clickstream-sessions')!;
    expect(click.emulator.model.profile.line).toBe('1.19');
    expect(click.emulator.model.scheduler).toBe('adaptive');
    // adaptive: rescaled in place, the same Flink job
    expect(click.emulator.model.jobs.filter((j) => j.name === 'clickstream-sessions')).toHaveLength(1);
    expect(click.emulator.model.taskManagers.every((tm) => tm.slots.length === 4)).toBe(true);
    expect(click.target.kind).toBe('eks-deployment');
    expect(click.target.name).toBe('flink/clickstream-taskmanager');
    expect(world.get('tenant-billing')!.target.kind).toBe('flink-deployment');
    expect(world.get('tenant-billing')!.emulator.model.scheduler).toBe('reactive');
    expect(world.get('orders-enrichment')!.target.name).toBe('flink-taskmanagers-orders');
    for (const j of run.jobs) {
      const b = EXAMPLE.jobs.find((x: { name: string }) => x.name === j.job).bounds;
      expect(j.finalParallelism).toBeLessThanOrEqual(b.maxParallelism);
      expect(j.finalTaskManagers).toBeLessThanOrEqual(b.maxTaskManagers);
    }
  });

  test("the lag alarms watch each job's own source metric (missing data never moves an alarm into ALARM)", () => {
    const into = (job: string, alarm: string) => run.runs.find((r) => r.job === job)!.alarms.some((a) => a.alarmName === `FlinkElastic-${job}-${alarm}` && a.to === 'ALARM');
    expect(into('orders-enrichment', 'lag-high')).toBe(true); // MSK SumOffsetLag
    expect(into('clickstream-sessions', 'lag-low')).toBe(true); // Kinesis iterator age
    expect(into('tenant-billing', 'lag-high')).toBe(true); // a CloudWatch metric in records
    expect(into('fraud-scoring', 'lag-high')).toBe(true); // Flink pendingRecords
  });
});

test("a lag source's value comes from the emulated backlog in the source's unit", () => {
  const cfg = parseConfig(EXAMPLE);
  const point = { t: 0, inputRate: 5000, capacity: 4000, lagRecords: 100_000, backlogSeconds: 20, parallelism: 4, taskManagers: 2 };
  expect(sourceLag(cfg.jobs[0], 'records', point)).toBe(100_000);
  expect(sourceLag(cfg.jobs[1], 'milliseconds', point)).toBe(20_000);
  expect(sourceLag(cfg.jobs[1], 'seconds', point)).toBe(20);
  expect(sourceLag(cfg.jobs[1], 'seconds', { ...point, lagRecords: 0 })).toBe(0);
});

/** The first resubmission of a savepoint (not the rollback) fails, as a bad jar or a crashing main() would. */
function failFirstResubmission(): jest.SpyInstance {
  const original = FlinkModel.prototype.runJar;
  let failed = false;
  return jest.spyOn(FlinkModel.prototype, 'runJar').mockImplementation(function (this: FlinkModel, jarId, req) {
    if (req.savepointPath && !failed) {
      failed = true;
      this.faults.failNextRuns(1);
    }
    return original.call(this, jarId, req);
  });
}

describe('a rescale that fails', () => {
  const ordersOnly = { ...EXAMPLE, jobs: [EXAMPLE.jobs[0]] };
  afterEach(() => jest.restoreAllMocks());

  test('is in the result, the summary and the report, with its reason', async () => {
    failFirstResubmission();
    const r = await simulate({ config: ordersOnly, trace: { csv: STEP } });
    const f = r.jobs[0].failures;
    expect(f).toHaveLength(1);
    // the trace's first minute (1,500 rec/s at 1,000 rec/s a subtask) needs 3 subtasks at the 70 % target: the run starts there
    expect(f[0]).toMatchObject({ job: 'orders-enrichment', from: 3, outcome: 'failed-rolled-back' });
    expect(f[0].reason).toContain('injected fault (run fails)');
    expect(r.jobs[0].failedRescales).toBe(1);
    const text = summaryText(r);
    expect(text).toContain('FAILED: 1 rescale(s) failed:');
    expect(text).toMatch(/orders-enrichment at \d\d:\d\d:\d\d: rescale 3 → \d+ failed-rolled-back: .*injected fault \(run fails\)/);
    const html = renderReport(reportInput(r));
    expect(html).toContain('1 rescale(s) FAILED');
    expect(html).toMatch(/<tr class="failed-rescale">.*failed-rolled-back.*injected fault \(run fails\)/);
    // the summary counts every rescale of the run (the retried scale-up and its catch-up give-back too), the failed one among them
    expect(html).toContain(`${r.jobs[0].rescales} rescale(s), 1 FAILED`);
    expect(r.jobs[0].rescales).toBeGreaterThanOrEqual(2);
  }, 120_000);

  test('makes `flink-elastic simulate` exit 1 naming it', async () => {
    failFirstResubmission();
    const dir = mkdtempSync(join(tmpdir(), 'sim-config-'));
    const config = join(dir, 'config.json');
    const trace = join(dir, 'traffic.csv');
    writeFileSync(config, JSON.stringify(ordersOnly));
    writeFileSync(trace, STEP);
    const report = join(dir, 'report.html');
    const r = await cli('simulate', '--config', config, '--trace', trace, '--quiet', '--report', report);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAILED: 1 rescale(s) failed:');
    expect(r.err).toMatch(/error: 1 rescale\(s\) failed in the simulation \(first: orders-enrichment: .*injected fault/);
    expect(readFileSync(report, 'utf8')).toContain('injected fault (run fails)');
  }, 120_000);
});
