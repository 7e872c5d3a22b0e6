/**
 * Every FlinkRestClient call (functions/adapters/flink/client.ts) against a real Flink's answers: what the client
 * returns has every field the collector and the workflow rely on, with plausible values checked against what the
 * test set up (TaskManager ids, slots, the job's vertices, the savepoint directory…). Version detection is compared
 * with what the cluster itself reports. One cluster per version (adaptive scheduler, so resource-requirements works),
 * used in order: read calls, in-place rescale, savepoint, stop-with-savepoint, jar upload and run from the
 * savepoint at a fixed job id, cancel.
 */
import { readFileSync } from 'node:fs';
import { FlinkApiError, FlinkRestClient, savepointTriggerId } from '../../functions/adapters/flink/client';
import type { JobDetails, SavepointStatus } from '../../functions/adapters/flink/types';
import { TEST_JOB_ENTRY_CLASS, TEST_JOB_FLINK_NAME } from '../../local/real-flink/harness';
import { adaptiveClusterConfig, recordFigures, Rig, TIER_VERSIONS, useRig } from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(500);
  }
  throw new Error(`${what}: not after ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

describe.each(TIER_VERSIONS)('Flink %s, REST client', (version) => {
  const { rig, test } = useRig(version, () =>
    Rig.start(version, { scheduler: 'adaptive', taskManagers: 1, parallelism: 1, rate: 500, costUs: 100, clusterConfig: adaptiveClusterConfig(version) }),
  );
  const figures: Record<string, unknown> = {};
  let api: FlinkRestClient;
  let jobId: string;
  let details: JobDetails;

  afterAll(() => recordFigures('client calls', version, figures));

  test('version detection: GET /config flink-version, as /overview reports it; a configured "major.minor" stays as configured', async () => {
    const r = rig();
    api = new FlinkRestClient({ baseUrl: r.job.cluster.restUrl, timeoutMs: 10_000, retries: 2, retryDelayMs: 250 });
    const raw = (await r.job.get('/config')) as Record<string, unknown>;
    const v = await api.version();
    expect(raw['flink-version']).toBe(version);
    expect(v.version).toBe(version); // detected: the exact release (1.20.5, 2.3.0)
    const [major, minor] = version.split('.').map(Number);
    expect(v).toMatchObject({ major, minor });
    expect(v.features).toMatchObject({ resourceRequirements: true, triggerId: true, formatType: true, restoreMode: true, flinkConfiguration: true, programArgs: major < 2, claimMode: major >= 2 });
    expect((await api.overview()).flinkVersion).toBe(version);
    // The config names "1.20" / "2.3" (major.minor): the client used to report that as "1.20.0" (a release the
    // cluster does not run — the notification said "Flink 1.20.0" for a 1.20.5 cluster).
    expect(r.jobConfig.flink.version).toBe(`${major}.${minor}`);
    expect((await r.flink.version()).version).toBe(`${major}.${minor}`);
    figures.detected = v.version;
    figures.configured = (await r.flink.version()).version;
  });

  test('overview, taskManagers, taskManager, taskManagerMetrics, jobManagerConfig', async () => {
    const r = rig();
    jobId = (await r.job.currentJob())!.id;
    const o = await api.overview();
    expect(o).toEqual({ taskManagers: 1, slotsTotal: 2, slotsAvailable: 1, jobsRunning: 1, flinkVersion: version });

    const tms = await api.taskManagers();
    expect(tms).toHaveLength(1);
    const [tm] = tms;
    expect(tm).toMatchObject({ id: 'tm-1', host: '127.0.0.1', slotsNumber: 2, freeSlots: 1 });
    // Flink writes "blocked" only when true (@JsonInclude NON_DEFAULT): an unblocked TaskManager has no such field
    expect(tm.blocked).toBeUndefined();
    expect(tm.path).toMatch(/^(pekko|akka)\.tcp:\/\/flink@127\.0\.0\.1:\d+\//);
    // Flink's "timeSinceLastHeartbeat" is the epoch ms of the last heartbeat (not a duration)
    expect(Math.abs(Date.now() - tm.lastHeartbeat)).toBeLessThan(30_000);

    const d = await api.taskManager('tm-1');
    expect(d).toMatchObject({ id: 'tm-1', slotsNumber: 2, freeSlots: 1 });
    expect(d.allocatedSlots).toEqual([{ jobId }]);

    const m = await until('TaskManager CPU load', async () => {
      const x = await api.taskManagerMetrics('tm-1', ['Status.JVM.CPU.Load', 'Status.JVM.Memory.Heap.Used', 'No.Such.Metric']);
      return x['Status.JVM.CPU.Load'] !== undefined ? x : undefined;
    });
    expect(m['Status.JVM.CPU.Load']).toBeGreaterThanOrEqual(0);
    expect(m['Status.JVM.CPU.Load']).toBeLessThanOrEqual(1);
    expect(m['Status.JVM.Memory.Heap.Used']).toBeGreaterThan(0);
    expect(m).not.toHaveProperty('No.Such.Metric');

    const cluster = await api.jobManagerConfig();
    expect(cluster['jobmanager.scheduler']).toBe('adaptive');
    expect(cluster['rest.port']).toBe(String(r.job.cluster.restPort));
    const forJob = await api.jobManagerConfig(jobId);
    expect(forJob['jobmanager.scheduler']).toBe('adaptive');
    figures.cpuLoad = m['Status.JVM.CPU.Load'];
  });

  test('jobs, findJobByName, job (vertices, plan edges, timestamps), checkpoints, vertexMetrics (the collector\'s inputs)', async () => {
    const jobs = await api.jobs();
    const mine = jobs.find((j) => j.id === jobId)!;
    expect(mine).toMatchObject({ name: TEST_JOB_FLINK_NAME, state: 'RUNNING', endTime: -1 });
    expect(mine.startTime).toBeGreaterThan(0);
    expect((await api.findJobByName(TEST_JOB_FLINK_NAME))?.id).toBe(jobId);
    expect(await api.findJobByName('no-such-job')).toBeUndefined();

    details = await api.job(jobId);
    expect(details).toMatchObject({ id: jobId, name: TEST_JOB_FLINK_NAME, state: 'RUNNING' });
    expect(details.now).toBeGreaterThan(0);
    expect(details.timestamps.RUNNING).toBeGreaterThan(0);
    expect(details.vertices.length).toBeGreaterThanOrEqual(3);
    for (const v of details.vertices) {
      expect(v).toMatchObject({ parallelism: 1, maxParallelism: 128, status: 'RUNNING' });
      expect(v.id).toMatch(/^[0-9a-f]{32}$/);
      expect(v.tasks.RUNNING).toBe(1);
    }
    const [source, ...rest] = details.vertices;
    expect(source.name).toMatch(/source/i);
    expect(source.inputs).toEqual([]);
    for (const v of rest) expect(v.inputs.length).toBe(1);
    // the keyed operator's input is a hash exchange in the plan (keyedInput), the source's is not
    expect(details.vertices.filter((v) => v.keyedInput).length).toBeGreaterThanOrEqual(1);
    expect(source.keyedInput).toBe(false);
    figures.jobMaxParallelism = details.maxParallelism;

    const cp = await until('a completed checkpoint', async () => {
      const c = await api.checkpoints(jobId);
      return c.completed > 0 && c.latestCompleted ? c : undefined;
    });
    expect(cp.enabled).toBe(true);
    expect(cp.latestCompleted!.id).toBeGreaterThan(0);
    expect(cp.latestCompleted!.externalPath).toMatch(new RegExp(`^file:.*${rig().job.cluster.checkpointDir}`));
    expect(cp.latestCompleted!.completedAt).toBeGreaterThan(0);
    expect(typeof cp.latestCompleted!.stateSize).toBe('number');
    expect(cp.restored).toBeUndefined();

    const t0 = Date.now();
    const src = await until('source metrics (pendingRecords, records out)', async () => {
      const m = await api.vertexMetrics(jobId, source.id);
      return m.pendingRecords !== undefined && m.numRecordsOutPerSecond !== undefined ? m : undefined;
    });
    expect(src.pendingRecords).toBeGreaterThanOrEqual(0);
    const work = details.vertices.find((v) => v.keyedInput)!;
    const w = await until('work vertex metrics (rates, busy, backpressure)', async () => {
      const m = await api.vertexMetrics(jobId, work.id);
      return m.numRecordsInPerSecond && m.busyTimeMsPerSecondMax !== undefined && m.backPressuredTimeMsPerSecondMax !== undefined ? m : undefined;
    });
    // producer rate 500/s; Flink's per-second rates are 60 s moving averages, so a young job reports less
    expect(w.numRecordsInPerSecond).toBeGreaterThan(0);
    expect(w.numRecordsInPerSecond).toBeLessThan(2000);
    expect(w.busyTimeMsPerSecondMax).toBeGreaterThanOrEqual(0);
    expect(w.busyTimeMsPerSecondMax).toBeLessThanOrEqual(1000);
    expect(w.busyTimeMsPerSecondAvg).toBeLessThanOrEqual(w.busyTimeMsPerSecondMax!);
    expect(w).not.toHaveProperty('pendingRecords');
    figures.metrics = { source: src, work: w, secondsUntilReported: (Date.now() - t0) / 1000, checkpoint: cp.latestCompleted };

    const missing = await api.job('0'.repeat(32)).catch((e) => e);
    expect(missing).toBeInstanceOf(FlinkApiError);
    expect(missing).toMatchObject({ status: 404, retryable: false });
  });

  test('getResourceRequirements / putResourceRequirements rescale the job in place', async () => {
    const req = await api.getResourceRequirements(jobId);
    expect(Object.keys(req).sort()).toEqual(details.vertices.map((v) => v.id).sort());
    for (const r of Object.values(req)) expect(r.parallelism.upperBound).toBe(1);
    const t0 = Date.now();
    await api.putResourceRequirements(jobId, Object.fromEntries(details.vertices.map((v) => [v.id, { parallelism: { lowerBound: 1, upperBound: 2 } }])));
    const after = await until('every vertex at parallelism 2', async () => {
      const d = await api.job(jobId);
      return d.state === 'RUNNING' && d.vertices.every((v) => v.parallelism === 2 && v.tasks.RUNNING === 2) ? d : undefined;
    });
    expect(after.id).toBe(jobId);
    for (const r of Object.values(await api.getResourceRequirements(jobId))) expect(r.parallelism).toEqual({ lowerBound: 1, upperBound: 2 });
    figures.inPlaceRescaleSeconds = (Date.now() - t0) / 1000;
  });

  test('triggerSavepoint (caller-chosen trigger id, idempotent) → savepointStatus COMPLETED; an unwritable directory → FAILED with the cause', async () => {
    const r = rig();
    const triggerId = savepointTriggerId(`client-test-${version}`);
    const t0 = Date.now();
    const t = await api.triggerSavepoint(jobId, { targetDirectory: `file://${r.job.cluster.savepointDir}`, triggerId, formatType: 'CANONICAL' });
    expect(t.triggerId).toBe(triggerId);
    const done = await until('the savepoint', async () => {
      const s = await api.savepointStatus(jobId, triggerId);
      return s.state === 'IN_PROGRESS' ? undefined : s;
    });
    expect(done.state).toBe('COMPLETED');
    const location = (done as Extract<SavepointStatus, { state: 'COMPLETED' }>).location;
    expect(location).toContain(r.job.cluster.savepointDir);
    figures.savepointSeconds = (Date.now() - t0) / 1000;
    // the same trigger id again: Flink answers with the operation it has, no second savepoint
    const again = await api.triggerSavepoint(jobId, { targetDirectory: `file://${r.job.cluster.savepointDir}`, triggerId }).catch((e: Error) => e);
    figures.retriggerSameId = again instanceof Error ? again.message : 'accepted';
    if (!(again instanceof Error)) {
      expect(again.triggerId).toBe(triggerId);
      expect(await api.savepointStatus(jobId, triggerId)).toEqual(done);
    }

    const badId = savepointTriggerId(`client-test-bad-${version}`);
    await api.triggerSavepoint(jobId, { targetDirectory: 'file:///proc/flink-elastic-unwritable', triggerId: badId });
    const bad = await until('the failing savepoint', async () => {
      const s = await api.savepointStatus(jobId, badId);
      return s.state === 'IN_PROGRESS' ? undefined : s;
    });
    expect(bad.state).toBe('FAILED');
    expect((bad as Extract<SavepointStatus, { state: 'FAILED' }>).failureCause).toMatch(/\w+/);
    figures.failedSavepointCause = (bad as { failureCause?: string }).failureCause;
    expect((await api.job(jobId)).state).toBe('RUNNING'); // a failed savepoint leaves the job running
    (figures as { location?: string }).location = location;
  });

  test('stopWithSavepoint, jars, uploadJar, runJar from the savepoint at a fixed job id, cancel', async () => {
    const r = rig();
    const stopId = savepointTriggerId(`client-test-stop-${version}`);
    const t0 = Date.now();
    const s = await api.stopWithSavepoint(jobId, { targetDirectory: `file://${r.job.cluster.savepointDir}`, triggerId: stopId, drain: false });
    expect(s.triggerId).toBe(stopId);
    const stopped = await until('stop-with-savepoint', async () => {
      const x = await api.savepointStatus(jobId, stopId);
      return x.state === 'IN_PROGRESS' ? undefined : x;
    });
    expect(stopped.state).toBe('COMPLETED');
    const location = (stopped as Extract<SavepointStatus, { state: 'COMPLETED' }>).location;
    const ended = await until('the stopped job to end', async () => {
      const j = (await api.jobs()).find((x) => x.id === jobId)!;
      return j.state === 'FINISHED' ? j : undefined;
    });
    expect(ended.endTime).toBeGreaterThan(ended.startTime);
    expect(await api.findJobByName(TEST_JOB_FLINK_NAME)).toBeUndefined();
    figures.stopWithSavepointSeconds = (Date.now() - t0) / 1000;

    const before = await api.jars();
    expect(before.map((j) => j.name)).toContain(r.job.jarName);
    for (const j of before) expect(j.uploaded).toBeGreaterThan(0);
    const up = await api.uploadJar(r.job.jarName, readFileSync(r.job.jar));
    expect(up.jarId).toMatch(new RegExp(`_${r.job.jarName.replace(/\./g, '\\.')}$`));
    const listed = (await api.jars()).find((j) => j.id === up.jarId);
    expect(listed).toMatchObject({ id: up.jarId, name: r.job.jarName });
    expect(listed!.entryClasses.length === 0 || listed!.entryClasses.includes(TEST_JOB_ENTRY_CLASS)).toBe(true);

    const fixedId = savepointTriggerId(`client-test-job-${version}`);
    const t1 = Date.now();
    const run = await api.runJar(up.jarId, { entryClass: TEST_JOB_ENTRY_CLASS, programArgs: r.job.programArgs, parallelism: 2, savepointPath: location, jobId: fixedId, restoreMode: 'NO_CLAIM' });
    expect(run.jobId).toBe(fixedId);
    await until('the resubmitted job running', async () => {
      const d = await api.job(fixedId);
      return d.state === 'RUNNING' && d.vertices.every((v) => v.parallelism === 2 && v.tasks.RUNNING === 2) ? d : undefined;
    });
    figures.runJarToRunningSeconds = (Date.now() - t1) / 1000;
    const cp = await until('the restored checkpoint stats', async () => {
      const c = await api.checkpoints(fixedId);
      return c.restored ? c : undefined;
    });
    expect(cp.restored).toMatchObject({ isSavepoint: true });
    expect(cp.restored!.externalPath).toBe(location);
    const verdict = await r.job.verdict();
    expect(verdict).toMatchObject({ subtasks: 2, lost: 0, duplicated: 0 });
    figures.verdict = verdict;

    await api.cancel(fixedId);
    const canceled = await until('the job CANCELED', async () => {
      const d = await api.job(fixedId);
      return d.state === 'CANCELED' ? d : undefined;
    });
    expect(canceled.timestamps.CANCELED).toBeGreaterThan(0);
  });
});
