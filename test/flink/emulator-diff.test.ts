/**
 * Emulator fidelity (issue 14 item 7): the SAME REST sequence against a real Flink cluster (adaptive scheduler, the
 * project's test job) and against the emulator's profile for that version, then a comparison of
 *   - shapes: every field path (recursively, array elements merged, id-like map keys collapsed) with its JSON type(s),
 *     and the status code, per step;
 *   - state transitions: cancel (CANCELLING → CANCELED), savepoint and stop-with-savepoint status (IN_PROGRESS →
 *     COMPLETED with operation.location, job FINISHED after stop), error bodies {errors:[...]} for unknown ids.
 * A difference not in test/flink/emulator-diff.allowlist.json (each entry with its reason; the same list is the
 * "Differences from real Flink" table of docs/emulator.md) fails the test. Both sides' answers are written to
 * .cache/emulator-diff/ for inspection.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmulator, type Emulator } from '../../local/emulator';
import { RealFlinkJob, TEST_JOB_ENTRY_CLASS, TEST_JOB_FLINK_NAME } from '../../local/real-flink/harness';
import { emulatorLineFor, type Exchange, compareRuns, type AllowEntry, type Run } from './emulator-diff-support';
import { TIER_VERSIONS, recordFigures } from './support';

const REPO = resolve(__dirname, '..', '..');
const OUT = join(REPO, '.cache', 'emulator-diff');
const ALLOW: AllowEntry[] = JSON.parse(readFileSync(join(__dirname, 'emulator-diff.allowlist.json'), 'utf8')).differences;

/** One side of the comparison: a REST base URL and how time passes there (real: wall clock; emulator: virtual). */
interface Side {
  url: string;
  /** Lets `ms` pass (real: sleep; emulator: advance the virtual clock). */
  pass(ms: number): Promise<void>;
  jar: { name: string; bytes: Buffer };
  savepointDir: string;
  programArgs: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UNKNOWN_JOB = '0123456789abcdef0123456789abcdef';
const UNKNOWN_TRIGGER = 'fedcba9876543210fedcba9876543210';
const WANT_VERTEX_METRICS = ['numRecordsInPerSecond', 'numRecordsOutPerSecond', 'busyTimeMsPerSecond', 'backPressuredTimeMsPerSecond', 'idleTimeMsPerSecond'];
const WANT_JOB_METRICS = ['uptime', 'numRestarts', 'lastCheckpointDuration', 'numberOfCompletedCheckpoints', 'lastCheckpointSize'];
const WANT_TM_METRICS = ['Status.JVM.CPU.Load', 'Status.JVM.Memory.Heap.Used', 'Status.JVM.CPU.Time'];

/** The REST sequence, identical for both sides. Returns every exchange and the observed transitions. */
async function runSequence(side: Side): Promise<Run> {
  const exchanges: Exchange[] = [];
  const call = async (step: string, method: string, path: string, body?: unknown, form?: FormData): Promise<Exchange> => {
    const init: RequestInit = { method, signal: AbortSignal.timeout(20_000) };
    if (form) init.body = form;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const r = await fetch(`${side.url}${path}`, init);
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* kept as text */
    }
    const x: Exchange = { step, method, path, status: r.status, body: parsed };
    exchanges.push(x);
    return x;
  };
  const get = (step: string, path: string) => call(step, 'GET', path);
  /** Polls without recording until `f` returns a value (real: every 50 ms; emulator: 50 virtual ms at a time). */
  const until = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    for (let waited = 0; waited <= timeoutMs; waited += 50) {
      const v = await f();
      if (v !== undefined) return v;
      await side.pass(50);
    }
    throw new Error(`${side.url}: timed out waiting for ${what}`);
  };
  const peek = async (path: string): Promise<any> => {
    const r = await fetch(`${side.url}${path}`, { signal: AbortSignal.timeout(20_000) });
    return r.ok ? r.json() : undefined;
  };
  const jobState = async (id: string): Promise<string> => (await peek(`/jobs/${id}`))?.state;
  const allTasksRunning = async (id: string) => {
    const d = await peek(`/jobs/${id}`);
    return d?.state === 'RUNNING' && d.vertices.every((v: { status: string }) => v.status === 'RUNNING') ? true : undefined;
  };
  const completedCheckpoint = async (id: string, after = 0) => {
    const c = await peek(`/jobs/${id}/checkpoints`);
    return c?.latest?.completed && c.latest.completed.id > after ? (c.latest.completed.id as number) : undefined;
  };
  /** A savepoint/stop operation's distinct statuses until COMPLETED (the first status read at once). */
  const followOperation = async (step: string, jobId: string, requestId: string): Promise<string[]> => {
    const seen: string[] = [];
    const first = await get(`${step} status (first)`, `/jobs/${jobId}/savepoints/${requestId}`);
    seen.push((first.body as any)?.status?.id);
    if (seen[0] === 'IN_PROGRESS') first.step = `${step} status IN_PROGRESS`;
    await until(`${step} completed`, async () => {
      const s = await peek(`/jobs/${jobId}/savepoints/${requestId}`);
      const id = s?.status?.id as string | undefined;
      if (id && seen[seen.length - 1] !== id) seen.push(id);
      return id === 'COMPLETED' ? true : undefined;
    });
    await get(`${step} status COMPLETED`, `/jobs/${jobId}/savepoints/${requestId}`);
    return seen;
  };
  const upload = async (step: string) => {
    const form = new FormData();
    form.append('jarfile', new Blob([side.jar.bytes], { type: 'application/x-java-archive' }), side.jar.name);
    return call(step, 'POST', '/jars/upload', undefined, form);
  };
  const run = (step: string, jarId: string, savepointPath?: string) =>
    call(step, 'POST', `/jars/${encodeURIComponent(jarId)}/run`, { entryClass: TEST_JOB_ENTRY_CLASS, programArgsList: side.programArgs, parallelism: 1, ...(savepointPath ? { savepointPath } : {}) });

  // -- a job A at parallelism 1, uploaded and run through the REST API, running with a completed checkpoint
  const up = await upload('jar upload');
  const jarId = String((up.body as any).filename).split('/').pop()!;
  await get('jar list', '/jars');
  const a = ((await run('jar run', jarId)).body as any).jobid as string;
  await until('job A running', () => allTasksRunning(a));
  await until('job A checkpoint', () => completedCheckpoint(a));
  await side.pass(3000); // metrics fetched at least once

  // -- read-only endpoints
  await get('config', '/config');
  await get('overview', '/overview');
  await get('jobs', '/jobs');
  await get('jobs overview', '/jobs/overview');
  const detail = await get('job detail', `/jobs/${a}`);
  await get('job status', `/jobs/${a}/status`);
  const vertices = (detail.body as any).vertices as { id: string; name: string }[];
  const v0 = vertices[0].id;
  const vLast = vertices[vertices.length - 1].id;
  await get('vertex detail', `/jobs/${a}/vertices/${v0}`);
  await get('source subtask metrics list', `/jobs/${a}/vertices/${v0}/subtasks/metrics`);
  const sub = await get('subtask metrics list', `/jobs/${a}/vertices/${vLast}/subtasks/metrics`);
  const subIds = new Set(((sub.body as any[]) ?? []).map((m) => m.id));
  const pick = WANT_VERTEX_METRICS.filter((n) => subIds.has(n)).join(',');
  await get('subtask metrics get', `/jobs/${a}/vertices/${vLast}/subtasks/metrics?get=${pick}`);
  await get('subtask metrics agg', `/jobs/${a}/vertices/${vLast}/subtasks/metrics?get=${pick}&agg=max,sum`);
  await get('vertex metrics list', `/jobs/${a}/vertices/${vLast}/metrics`);
  await get('vertex metrics get', `/jobs/${a}/vertices/${vLast}/metrics?get=${pick.split(',').map((n) => `0.${n}`).join(',')}`);
  const jm = await get('job metrics list', `/jobs/${a}/metrics`);
  const jmIds = new Set((Array.isArray(jm.body) ? (jm.body as any[]) : []).map((m) => m.id));
  await get('job metrics get', `/jobs/${a}/metrics?get=${WANT_JOB_METRICS.filter((n) => jmIds.has(n) || jmIds.size === 0).join(',')}`);
  await get('job config', `/jobs/${a}/config`);
  await get('jobmanager config', '/jobmanager/config');
  await get('job jobmanager config', `/jobs/${a}/jobmanager/config`);
  const tms = await get('taskmanagers', '/taskmanagers');
  const tm = (tms.body as any).taskmanagers[0].id as string;
  await get('taskmanager detail', `/taskmanagers/${encodeURIComponent(tm)}`);
  const tmm = await get('taskmanager metrics list', `/taskmanagers/${encodeURIComponent(tm)}/metrics`);
  const tmIds = new Set(((tmm.body as any[]) ?? []).map((m) => m.id));
  await get('taskmanager metrics get', `/taskmanagers/${encodeURIComponent(tm)}/metrics?get=${WANT_TM_METRICS.filter((n) => tmIds.has(n)).join(',')}`);
  const rr = await get('resource requirements', `/jobs/${a}/resource-requirements`);
  await call('resource requirements put', 'PUT', `/jobs/${a}/resource-requirements`, rr.body);
  await side.pass(1000);
  await get('checkpoints', `/jobs/${a}/checkpoints`);

  // -- errors
  await get('unknown job', `/jobs/${UNKNOWN_JOB}`);
  await get('invalid job id', '/jobs/not-a-job-id');
  await get('unknown job checkpoints', `/jobs/${UNKNOWN_JOB}/checkpoints`);
  await get('unknown trigger', `/jobs/${a}/savepoints/${UNKNOWN_TRIGGER}`);
  await call('unknown jar run', 'POST', '/jars/00000000-0000-0000-0000-000000000000_missing.jar/run', { entryClass: TEST_JOB_ENTRY_CLASS, parallelism: 1 });
  await call('unknown job cancel', 'PATCH', `/jobs/${UNKNOWN_JOB}?mode=cancel`);
  await get('unknown path', '/no/such/path');

  // -- savepoint trigger + status (in progress, completed), then the checkpoint stats with latest.savepoint
  const sp = await call('savepoint trigger', 'POST', `/jobs/${a}/savepoints`, { 'target-directory': side.savepointDir, 'cancel-job': false });
  const savepointStatuses = await followOperation('savepoint', a, (sp.body as any)['request-id']);
  const savepointPath = (exchanges[exchanges.length - 1].body as any).operation.location as string;
  // checkpoint statistics are cached by the REST handlers (real: up to web.refresh-interval): wait until they show it
  await until('latest.savepoint in the checkpoint statistics', async () => ((await peek(`/jobs/${a}/checkpoints`))?.latest?.savepoint ? true : undefined));
  await get('checkpoints after savepoint', `/jobs/${a}/checkpoints`);

  // -- job B: a second upload, run from the savepoint (latest.restored), then cancelled
  const up2 = await upload('jar upload (second)');
  const jarId2 = String((up2.body as any).filename).split('/').pop()!;
  const b = (await run('jar run from savepoint', jarId2, savepointPath)).body as any;
  const bId = b.jobid as string;
  await until('job B running', () => allTasksRunning(bId));
  await until('job B checkpoint, latest.restored', async () => {
    const c = await peek(`/jobs/${bId}/checkpoints`);
    return c?.latest?.completed && c.latest.restored ? true : undefined;
  });
  await get('checkpoints restored', `/jobs/${bId}/checkpoints`);
  const cancelStates: string[] = [await jobState(bId)];
  await call('cancel', 'PATCH', `/jobs/${bId}?mode=cancel`);
  await until('job B canceled', async () => {
    const s = await jobState(bId);
    if (s && cancelStates[cancelStates.length - 1] !== s) cancelStates.push(s);
    return s === 'CANCELED' ? true : undefined;
  });
  await get('job detail canceled', `/jobs/${bId}`);

  // -- stop-with-savepoint of job A
  const stop = await call('stop-with-savepoint', 'POST', `/jobs/${a}/stop`, { targetDirectory: side.savepointDir, drain: false });
  const stopStatuses = await followOperation('stop', a, (stop.body as any)['request-id']);
  const stopStates: string[] = ['RUNNING'];
  await until('job A finished', async () => {
    const s = await jobState(a);
    if (s && stopStates[stopStates.length - 1] !== s) stopStates.push(s);
    return ['FINISHED', 'CANCELED', 'FAILED'].includes(s) ? true : undefined;
  });
  await get('jobs overview terminal', '/jobs/overview');
  await get('savepoint status after stop (job gone?)', `/jobs/${a}/savepoints/${(stop.body as any)['request-id']}`);
  await call('cancel finished job', 'PATCH', `/jobs/${a}?mode=cancel`);
  await call('jar delete', 'DELETE', `/jars/${encodeURIComponent(jarId)}`);
  await call('jar delete unknown', 'DELETE', '/jars/00000000-0000-0000-0000-000000000000_missing.jar');

  return { exchanges, transitions: { savepoint: savepointStatuses, stop: stopStatuses, cancel: cancelStates, stopJob: stopStates } };
}

/** The sequence on a fresh real cluster (adaptive scheduler, one TaskManager with 2 slots); its JVMs stopped after. */
async function runReal(version: string, onStart: (j: RealFlinkJob) => void): Promise<{ run: Run; startedMs: number; sequenceMs: number; jarName: string; programArgs: string[] }> {
  const t0 = Date.now();
  const real = await RealFlinkJob.start({ version, scheduler: 'adaptive', taskManagers: 1, parallelism: 1, rate: 50, costUs: 10 });
  onStart(real);
  // the harness's own job holds a slot: cancel it so the sequence starts on an idle cluster, as on the emulator
  const own = (await real.currentJob())!.id;
  await fetch(`${real.cluster.restUrl}/jobs/${own}?mode=cancel`, { method: 'PATCH' });
  for (let i = 0; i < 100 && (await real.currentJob()); i++) await sleep(200);
  const startedMs = Date.now() - t0;
  const run = await runSequence({
    url: real.cluster.restUrl,
    pass: async (ms) => {
      await sleep(ms);
    },
    jar: { name: real.jarName, bytes: readFileSync(real.jar) },
    savepointDir: `file://${real.cluster.savepointDir}`,
    programArgs: real.programArgs,
  });
  return { run, startedMs, sequenceMs: Date.now() - t0 - startedMs, jarName: real.jarName, programArgs: real.programArgs };
}

describe.each(TIER_VERSIONS)('Flink %s vs the emulator', (version) => {
  let real: RealFlinkJob | undefined;
  let emu: Emulator | undefined;
  let failed = true;
  afterAll(async () => {
    await emu?.close();
    if (real) {
      if (failed) process.stderr.write(`emulator-diff (${version}): real cluster logs kept in ${real.cluster.logDir}\n`);
      await real.stop();
    }
  }, 120_000);

  test('same REST sequence: same shapes, status codes and state transitions (or an allow-listed, documented difference)', async () => {
    mkdirSync(OUT, { recursive: true });
    const recorded = join(OUT, `${version}-real.json`);
    let realRun: Run;
    let figures: Record<string, unknown> = {};
    let jarName = `flink-test-job-flink${version}.jar`;
    let programArgs = ['--rate', '50'];
    if (process.env.EMULATOR_DIFF_REPLAY === '1') {
      // EMULATOR_DIFF_REPLAY=1: compare with the real answers the last full run recorded (no JVM started)
      realRun = JSON.parse(readFileSync(recorded, 'utf8'));
    } else {
      const r = await runReal(version, (j) => (real = j));
      realRun = r.run;
      ({ jarName, programArgs } = r);
      figures = { clusterStartSeconds: r.startedMs / 1000, realSequenceSeconds: r.sequenceMs / 1000 };
      writeFileSync(recorded, JSON.stringify(realRun, null, 1));
      await real!.stop();
      real = undefined;
    }

    const line = emulatorLineFor(version);
    const savepointDir = 'file:///tmp/emulator-diff/savepoints';
    emu = await startEmulator({ version: line, scheduler: 'adaptive', taskManagers: 1, slotsPerTaskManager: 2, savepointDir, tickMs: 50 });
    const e = emu;
    const spec = [{ entryClass: TEST_JOB_ENTRY_CLASS, jobName: TEST_JOB_FLINK_NAME, checkpointIntervalMs: 2000 }];
    const emuRun = await runSequence({
      url: e.url,
      pass: async (ms) => {
        e.clock.advance(ms);
      },
      jar: { name: jarName, bytes: Buffer.from(JSON.stringify(spec)) },
      savepointDir,
      programArgs,
    });

    writeFileSync(join(OUT, `${version}-emulator-${line}.json`), JSON.stringify(emuRun, null, 1));
    const { unexpected, allowed, stale } = compareRuns(version, realRun, emuRun, ALLOW);
    writeFileSync(join(OUT, `${version}-differences.json`), JSON.stringify({ unexpected, allowed, stale }, null, 1));
    if (stale.length) process.stderr.write(`emulator-diff (${version}): allow-list entries not seen (fixed?):\n  ${stale.map((s) => `${s.step} ${s.path ?? ''} ${s.kind}`).join('\n  ')}\n`);
    if (!process.env.EMULATOR_DIFF_REPLAY) recordFigures('emulator-diff', version, { emulatorProfile: line, ...figures, allowedDifferences: allowed.length, unexpected: unexpected.length });

    // state transitions, on both sides
    for (const r of [realRun, emuRun]) {
      expect(r.transitions.savepoint[r.transitions.savepoint.length - 1]).toBe('COMPLETED');
      expect(r.transitions.stop[r.transitions.stop.length - 1]).toBe('COMPLETED');
      expect(r.transitions.cancel[0]).toBe('RUNNING');
      expect(r.transitions.cancel[r.transitions.cancel.length - 1]).toBe('CANCELED');
      expect(r.transitions.stopJob[r.transitions.stopJob.length - 1]).toBe('FINISHED');
    }
    expect(unexpected).toEqual([]);
    failed = false;
  });
});
