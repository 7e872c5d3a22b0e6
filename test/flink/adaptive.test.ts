/**
 * Adaptive mode on a real Flink (≥ 1.18): a session cluster with the adaptive scheduler; the synthesized workflow
 * rescales the running job in place through PUT /jobs/{id}/resource-requirements — no savepoint, no cancel, the SAME
 * job id before and after. Scale-out with the slots already there; scale-in lowers the requirements, then drains and
 * stops the TaskManager that no longer holds slots. Scale-in goes 4 → 1, not 4 → 2: at 4 → 2 on 2 TaskManagers × 2
 * slots Flink (1.20.5) keeps one slot on EACH TaskManager (the adaptive scheduler re-uses the slots with the job's
 * local state; `jobmanager.adaptive-scheduler.prefer-minimal-taskmanagers: true` did not change that), so no
 * TaskManager becomes idle: the workflow then ends SUCCEEDED-DRAIN-TIMEOUT after drainTimeoutSeconds, the job
 * rescaled and healthy, the surplus TaskManager kept — correct, but nothing to release. At p 1 one TaskManager is
 * necessarily free. Per vertex: every vertex at the new parallelism as Flink reports
 * it (GET /jobs/{id}); the sink's verdict stays clean (the in-place rescale restores from Flink's own checkpoint).
 *
 * Adaptive scheduler settings changed from Flink's defaults (clusterConfig below), because the defaults would only
 * delay the rescale and the test would measure Flink's waiting, not the rescale:
 *  - 1.x `jobmanager.adaptive-scheduler.scaling-interval.min` (default 30 s: no rescale within 30 s of the job
 *    starting or of the previous rescale) → 2 s; 2.x renamed it `executing.cooldown-after-rescaling` (same default).
 *  - 2.x `jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout` (default 60 s of waiting when the
 *    resources are sufficient but below the desired ones) → 2 s. Our requirements are always met exactly, so this
 *    only matters if a TaskManager is slow; 1.x has no such wait.
 *  - `slot.idle.timeout` (default 50 s: the JobMaster keeps a slot it no longer uses that long before giving it back
 *    to the ResourceManager, so a TaskManager looks busy 50 s after a scale-in) → 3 s, so the drain sees the freed
 *    TaskManager within seconds. The drain timeout stays the config's 60 s.
 */
import { adaptiveClusterConfig, phases, recordFigures, Rig, TIER_VERSIONS, useRig } from './support';

describe.each(TIER_VERSIONS)('Flink %s, adaptive mode', (version) => {
  const { rig, test } = useRig(version, () =>
    Rig.start(version, { scheduler: 'adaptive', taskManagers: 2, parallelism: 2, rate: 600, costUs: 100, clusterConfig: adaptiveClusterConfig(version) }),
  );

  test('p 2 → 4 in place on the slots present, then 4 → 1 with the surplus TaskManager drained and stopped: same job id, every vertex at the new parallelism, clean verdict', async () => {
    const r = rig();
    expect(r.jobConfig.mode).toBe('adaptive');
    const jobId = (await r.job.currentJob())!.id;
    const before = await r.job.verdict();
    const vertexParallelism = async () => ((await r.job.get(`/jobs/${jobId}`)).vertices as { name: string; parallelism: number }[]).map((v) => [v.name, v.parallelism]);
    const initial = await vertexParallelism();
    expect(initial.length).toBeGreaterThanOrEqual(3); // source, work, verdict (+ chained sink)
    for (const [, p] of initial) expect(p).toBe(2);

    const up = await r.rescale({ parallelism: 4 });
    expect(up.status).toBe('SUCCEEDED');
    expect(up.states).toEqual(expect.arrayContaining(['PutRequirements', 'CheckParallelism']));
    expect(up.states).not.toEqual(expect.arrayContaining(['Savepoint']));
    expect(up.states).not.toEqual(expect.arrayContaining(['Cancel']));
    expect(r.job.cluster.taskManagerIds()).toEqual(['tm-1', 'tm-2']); // the 4 slots were there: nothing started
    expect((await r.job.currentJob())!.id).toBe(jobId); // in place: the same job
    for (const [, p] of await vertexParallelism()) expect(p).toBe(4);
    const reqUp = await r.flink.getResourceRequirements(jobId);
    for (const v of Object.values(reqUp)) expect(v.parallelism).toEqual({ lowerBound: 4, upperBound: 4 });
    expect(up.notification?.subject).toMatch(/rescaled 2 -> 4/);
    expect(up.notification?.message).toContain('adaptive');

    await new Promise((res) => setTimeout(res, 4000));
    const mid = await r.job.verdict();
    expect(mid.subtasks).toBe(4);
    expect(mid.checked).toBeGreaterThan(before.checked);
    expect(mid).toMatchObject({ lost: 0, duplicated: 0 });

    const down = await r.rescale({ parallelism: 1 });
    expect(down.status).toBe('SUCCEEDED');
    expect(down.states).toEqual(expect.arrayContaining(['PutRequirements', 'CheckParallelism', 'CheckDrained', 'ReleaseIdle']));
    expect((await r.job.currentJob())!.id).toBe(jobId);
    for (const [, p] of await vertexParallelism()) expect(p).toBe(1);
    expect(r.job.cluster.taskManagerIds()).toHaveLength(1);
    expect(down.notification?.message).toMatch(/Released: +tm-\d/);
    expect(await r.job.cluster.registeredTaskManagers()).toEqual(r.job.cluster.taskManagerIds());

    await new Promise((res) => setTimeout(res, 4000));
    const after = await r.job.verdict();
    expect(after.subtasks).toBe(1);
    expect(after.checked).toBeGreaterThan(mid.checked);
    expect(after).toMatchObject({ lost: 0, duplicated: 0 });

    recordFigures('adaptive 2→4→1', version, {
      jobId,
      up: { ...phases(up.notification), wallSeconds: up.ms / 1000 },
      down: { ...phases(down.notification), wallSeconds: down.ms / 1000 },
      verdict: after,
    });
  });
});
