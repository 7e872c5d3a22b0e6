/**
 * Failures on a real Flink (savepoint mode), each against the synthesized rescale workflow with the real step handlers:
 *
 * - the savepoint fails (the savepoint directory lies under a regular file, so Flink's mkdir fails, even as root)
 *   → Abort: the job is untouched (same Flink job, same parallelism, never cancelled);
 * - the savepoint outlasts savepoint.timeoutSeconds (the work vertex slowed so its barrier waits behind the backlog)
 *   → Abort: the job is untouched;
 * - the resubmission at the new parallelism fails: each POST /jars/{id}/run at the new parallelism names an entry class
 *   the jar does not have, and real Flink refuses it (HTTP 500, ProgramInvocationException); the run at the old
 *   parallelism is passed through unchanged → Rollback from the same savepoint at the old parallelism;
 * - the JobManager is killed and restarted right after the Cancel (no HA: the session cluster forgets its jobs)
 *   → the workflow resubmits at the new parallelism from the recorded savepoint;
 * - drain timeout: another job takes a slot the scale-in freed → the TaskManager is kept, the notification says so;
 * - the TaskManager that runs the rescaled job is killed (SIGKILL) at the start of the scale-in's drain → Flink fails
 *   the job over to the TaskManager that was being drained; the workflow releases nothing (no idle surplus is left,
 *   and nothing is released while a TaskManager that runs the job's tasks has sent no heartbeat since the drain began).
 *
 * Each ends with the job RUNNING and a clean verdict (nothing lost, nothing counted twice), and the notification says
 * what happened. One cluster per Flink version; each test first brings the job to the parallelism it starts from.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunJarRequest } from '../../functions/adapters/flink/types';
import type { CapacityTarget } from '../../functions/adapters/targets/types';
import { TEST_JOB_ENTRY_CLASS } from '../../local/real-flink/harness';
import { phases, recordFigures, Rig, TIER_VERSIONS, useRig, type WorkflowRun } from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The verdict after a few checkpoints of the current job, asserted clean. */
async function cleanVerdict(r: Rig, subtasks: number) {
  await r.job.waitRunning();
  await sleep(4000);
  const v = await r.job.verdict(60_000);
  expect(v.subtasks).toBe(subtasks);
  expect(v).toMatchObject({ lost: 0, duplicated: 0 });
  return v;
}

function figures(run: WorkflowRun) {
  return { ...phases(run.notification), wallSeconds: run.ms / 1000, outcome: /rescale: (\S+)/.exec(run.notification?.message ?? '')?.[1]?.toLowerCase() };
}

/** Brings the job to parallelism p with a plain (successful) rescale, when it is not there already. */
async function at(r: Rig, p: number): Promise<void> {
  if ((await r.job.parallelism()) === p) return;
  const run = await r.rescale({ parallelism: p });
  expect(run.status).toBe('SUCCEEDED');
  expect(await r.job.parallelism()).toBe(p);
}

describe.each(TIER_VERSIONS)('Flink %s, failures in savepoint mode', (version) => {
  const { rig, test } = useRig(version, () => Rig.start(version, { taskManagers: 2, parallelism: 2, rate: 600, costUs: 100 }));

  test('the savepoint fails (directory not writable) → job untouched, never cancelled', async () => {
    const r = rig();
    const before = (await r.job.currentJob())!;
    // A regular file where a directory must be: the JobManager's mkdir fails whatever the permissions (even as root).
    const file = join(r.job.cluster.workDir, 'not-a-directory');
    writeFileSync(file, 'a regular file\n');
    r.configure({}, (doc) => {
      doc.jobs[0].savepoint = { directory: `file://${file}/sp`, timeoutSeconds: 60 };
    });
    try {
      const run = await r.rescale({ parallelism: 4 });
      expect(run.status).toBe('FAILED');
      expect(run.states).toEqual(expect.arrayContaining(['Savepoint', 'PollSavepoint', 'Abort', 'NotifyFailure']));
      expect(run.states).not.toContain('Cancel');
      expect(run.states).not.toContain('Resubmit');
      expect(run.notification?.subject).toMatch(/rescale of load failed; job untouched at parallelism 2/);
      expect(run.notification?.message).toMatch(/FAILED-UNTOUCHED/);
      expect(run.notification?.message).toMatch(/savepoint of Flink job \w+ failed/i);
      expect(await r.job.currentJob()).toEqual({ id: before.id, state: 'RUNNING' });
      expect(await r.job.parallelism()).toBe(2);
      const overview = await r.job.get('/jobs/overview');
      expect((overview.jobs as { state: string }[]).filter((j) => j.state !== 'RUNNING')).toHaveLength(0);
      expect(existsSync(`${file}/sp`)).toBe(false);
      const v = await cleanVerdict(r, 2);
      recordFigures('faults: savepoint fails', version, { ...figures(run), verdict: v });
    } finally {
      r.configure();
    }
  });

  test('the savepoint outlasts savepoint.timeoutSeconds (30 s: the work vertex slowed 2000-fold, its barrier queued behind the backlog) → Abort; job untouched, never cancelled', async () => {
    const r = rig();
    await at(r, 2);
    const before = (await r.job.currentJob())!;
    r.configure({}, (doc) => {
      doc.jobs[0].savepoint = { ...doc.jobs[0].savepoint, timeoutSeconds: 30 };
    });
    // 200 ms per record instead of 100 µs: the input backs up within a second or two, and a savepoint barrier waits
    // behind every buffered record (aligned checkpoints), far longer than 30 s.
    r.job.setCost(200_000);
    await sleep(3000);
    try {
      const run = await r.rescale({ parallelism: 4 });
      expect(run.status).toBe('FAILED');
      expect(run.states).toEqual(expect.arrayContaining(['Savepoint', 'PollSavepoint', 'Abort', 'NotifyFailure']));
      expect(run.states).not.toContain('Cancel');
      expect(run.notification?.subject).toMatch(/rescale of load failed; job untouched at parallelism 2/);
      expect(run.notification?.message).toMatch(/FAILED-UNTOUCHED/);
      expect(run.notification?.message).toMatch(/did not happen within 30 s/);
      expect(await r.job.currentJob()).toEqual({ id: before.id, state: 'RUNNING' });
      expect(await r.job.parallelism()).toBe(2);
      r.job.setCost(100);
      const v = await cleanVerdict(r, 2);
      recordFigures('faults: savepoint timeout', version, { ...figures(run), verdict: v });
    } finally {
      r.job.setCost(100);
      r.configure();
    }
  });

  test('the resubmission at the new parallelism fails (Flink rejects the run) → rolled back from the same savepoint at the old parallelism', async () => {
    const r = rig();
    await at(r, 2);
    const before = (await r.job.currentJob())!;
    const flink = r.flink;
    const runJar = flink.runJar.bind(flink);
    const calls: { parallelism?: number; savepointPath?: string; error?: string }[] = [];
    flink.runJar = async (jarId: string, req: RunJarRequest) => {
      const sent = req.parallelism === 4 ? { ...req, entryClass: 'dev.flinkelastic.testjob.NoSuchJob' } : req;
      const call: (typeof calls)[number] = { parallelism: req.parallelism, savepointPath: req.savepointPath };
      calls.push(call);
      try {
        return await runJar(jarId, sent);
      } catch (e) {
        call.error = (e as Error).message;
        throw e;
      }
    };
    try {
      const run = await r.rescale({ parallelism: 4 });
      expect(run.status).toBe('FAILED');
      expect(run.states).toEqual(expect.arrayContaining(['Savepoint', 'Cancel', 'Resubmit', 'Rollback', 'NotifyFailure']));
      expect(run.states).not.toContain('CheckRunning');
      expect(run.notification?.subject).toMatch(/rescale of load failed; rolled back to parallelism 2/);
      expect(run.notification?.message).toMatch(/FAILED-ROLLED-BACK/);
      const sp = /Savepoint: +(\S+)/.exec(run.notification!.message)![1];
      // Flink's own answer to the bad run is in the notification
      expect(calls[0].error).toMatch(/entry point class 'dev.flinkelastic.testjob.NoSuchJob' was not found/);
      expect(run.notification?.message).toMatch(/Error: .*runJar.*NoSuchJob/);
      // the failed runs were at the new parallelism (Resubmit retried the 500s); the rollback from the very same
      // savepoint at the old parallelism
      const ps = calls.map((c) => c.parallelism);
      expect(ps.at(-1)).toBe(2);
      expect(ps.slice(0, -1).every((x) => x === 4)).toBe(true);
      expect(calls.every((c) => c.savepointPath === sp)).toBe(true);
      expect(calls.at(-1)!.error).toBeUndefined();
      expect(run.notification?.message).toMatch(new RegExp(`Recovery: .*resubmitted from ${escape(sp)} at the old parallelism 2`));
      expect((await r.job.currentJob())!.id).not.toBe(before.id);
      expect(await r.job.parallelism()).toBe(2);
      const v = await cleanVerdict(r, 2);
      recordFigures('faults: resubmit fails → rollback', version, {
        ...figures(run),
        injected: 'POST /jars/{id}/run at the new parallelism with an unknown entry class (Flink answers 500)',
        resubmitAttempts: calls.length - 1,
        verdict: v,
      });
    } finally {
      flink.runJar = runJar;
    }
  });

  test('the JobManager is restarted right after the cancel (jobs forgotten) → resubmitted from the recorded savepoint', async () => {
    const r = rig();
    await at(r, 2);
    const before = (await r.job.currentJob())!;
    let restarted: Promise<void> | undefined;
    let restartMs = 0;
    const run = await r.rescale(
      { parallelism: 4 },
      {
        onEvent: (e) => {
          // restartJobManager sends the SIGKILL synchronously, before Resubmit's first request
          if (e.type === 'exited' && e.state === 'Cancel' && !restarted) {
            const t0 = Date.now();
            restarted = r.job.cluster.restartJobManager('kill').then(() => void (restartMs = Date.now() - t0));
          }
        },
      },
    );
    await restarted;
    expect(restarted).toBeDefined();
    // Resubmit found neither the old nor the new job (the JobManager forgot both) and submitted at the new parallelism
    // from the recorded savepoint; the jar survived (web.upload.dir is a fixed folder, re-read on start).
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(expect.arrayContaining(['Cancel', 'Resubmit', 'CheckRunning']));
    expect(run.states).not.toContain('Rollback');
    expect(run.notification?.subject).toMatch(/load rescaled 2 -> 4/);
    expect(run.notification?.message).toMatch(/Savepoint: +file:/);
    expect((await r.job.currentJob())!.id).not.toBe(before.id);
    expect(await r.job.parallelism()).toBe(4);
    const v = await cleanVerdict(r, 4);
    recordFigures('faults: JobManager restarted after cancel', version, { ...figures(run), jobManagerRestartSeconds: restartMs / 1000, verdict: v });
  });

  test('drain timeout: another job of the session cluster takes a freed slot while the scale-in drains (drainTimeoutSeconds 10) → its TaskManager is kept, nothing released; the job runs at 2', async () => {
    const r = rig();
    await at(r, 4);
    await r.job.cluster.waitForRegistered();
    expect(r.job.cluster.taskManagerIds()).toHaveLength(2);
    r.configure({ job: { drainTimeoutSeconds: 10 } });
    let other: string | undefined;
    // A second job from the same jar (its own verdict folder), started at the drain's first look at the members: it
    // takes one of the two slots the scale-in freed, so no surplus TaskManager becomes idle.
    const target = r.target;
    const drainTarget: CapacityTarget = Object.assign(Object.create(target) as CapacityTarget, {
      protectBusy: async (tms: Parameters<CapacityTarget['protectBusy']>[0]) => {
        if (!other) {
          const args = [...r.job.programArgs];
          args[args.indexOf('--verdict-dir') + 1] = mkdtempSync(join(tmpdir(), 'fe-other-job-'));
          const res = await fetch(`${r.job.cluster.restUrl}/jars/${encodeURIComponent(r.job.jarId!)}/run`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ entryClass: TEST_JOB_ENTRY_CLASS, programArgsList: args, parallelism: 1 }),
          });
          other = ((await res.json()) as { jobid: string }).jobid;
          for (let i = 0; i < 60 && (await r.job.get(`/jobs/${other}`)).state !== 'RUNNING'; i++) await sleep(500);
        }
        return target.protectBusy(tms);
      },
    });
    let run: WorkflowRun;
    try {
      run = await r.rescale({ parallelism: 2 }, { deps: { target: () => drainTarget } });
    } finally {
      if (other) {
        await fetch(`${r.job.cluster.restUrl}/jobs/${other}?mode=cancel`, { method: 'PATCH' });
        for (let i = 0; i < 60 && (await r.job.get(`/jobs/${other}`)).state !== 'CANCELED'; i++) await sleep(500);
      }
      r.configure();
    }
    expect(other).toBeDefined();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(expect.arrayContaining(['CheckDrained', 'ReleaseIdle']));
    expect(run.notification?.subject).toMatch(/load rescaled 4 -> 2; 1 TaskManager\(s\) kept \(drain timeout\)/);
    expect(run.notification?.message).toMatch(/SUCCEEDED-DRAIN-TIMEOUT/);
    expect(r.job.cluster.taskManagerIds()).toHaveLength(2);
    expect(await r.job.parallelism()).toBe(2);
    const v = await cleanVerdict(r, 2);
    recordFigures('faults: drain timeout', version, { ...figures(run), verdict: v });
  });

  test('the busy TaskManager is killed (SIGKILL) while the scale-in drains → the job fails over to the drained one; nothing released', async () => {
    const r = rig();
    await at(r, 4);
    await r.job.cluster.waitForRegistered();
    expect(r.job.cluster.taskManagerIds()).toHaveLength(2);
    let killed: string | undefined;
    // At the start of the drain loop (CheckDrained's first call to the target), deterministically: the TaskManager
    // that holds the rescaled job's slots is SIGKILLed, and gone, before the step looks at the members.
    const target = r.target;
    const drainTarget: CapacityTarget = Object.assign(Object.create(target) as CapacityTarget, {
      protectBusy: async (tms: Parameters<CapacityTarget['protectBusy']>[0]) => {
        if (!killed) {
          const flinkTms = (await r.job.get('/taskmanagers')).taskmanagers as { id: string; slotsNumber: number; freeSlots: number }[];
          killed = flinkTms.find((t) => t.freeSlots < t.slotsNumber)?.id;
          if (!killed) throw new Error(`no TaskManager holds slots: ${JSON.stringify(flinkTms)}`);
          await r.job.cluster.stopTaskManager(killed, 'kill');
        }
        return target.protectBusy(tms);
      },
    });
    const run = await r.rescale({ parallelism: 2 }, { deps: { target: () => drainTarget } });
    expect(killed).toBeDefined();
    expect(run.states).toContain('CheckDrained');
    expect(run.status).toBe('SUCCEEDED');
    expect(run.notification?.subject).toMatch(/load rescaled 4 -> 2/);
    // the only TaskManager left is the one that was being drained: it was not released
    const left = r.job.cluster.taskManagerIds();
    expect(left).toHaveLength(1);
    expect(left).not.toContain(killed);
    expect(run.notification?.message).not.toMatch(/Released:/);
    // Flink notices the lost TaskManager (heartbeat timeout) and restarts the job from its latest checkpoint there
    const t0 = Date.now();
    await r.job.cluster.waitForRegistered();
    await r.job.waitRunning(120_000);
    const failoverMs = Date.now() - t0;
    expect(await r.job.parallelism()).toBe(2);
    const v = await cleanVerdict(r, 2);
    recordFigures('faults: TaskManager killed mid-drain', version, { ...figures(run), killed, failoverSeconds: failoverMs / 1000, verdict: v });
  });
});
