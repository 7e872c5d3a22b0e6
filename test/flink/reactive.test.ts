/**
 * Reactive mode on a real Flink: an application cluster (StandaloneApplicationClusterEntryPoint with the test job's
 * jar, `scheduler-mode: reactive`) runs the job on every slot there is. The synthesized workflow changes capacity
 * only — scale-out starts TaskManager processes, scale-in stops them — and Flink rescales the job onto the slots by
 * itself (the same job, restarted from its latest checkpoint). The parallelism Flink reports must follow the slots,
 * and the sink's verdict stay clean.
 *
 * Reactive mode defaults `resource-stabilization-timeout` to 0, so the only adaptive-scheduler wait is the cooldown
 * between rescales (30 s by default): shortened to 2 s here as in adaptive mode (support.ts adaptiveClusterConfig).
 */
import { adaptiveClusterConfig, phases, recordFigures, Rig, TIER_VERSIONS, useRig } from './support';

describe.each(TIER_VERSIONS)('Flink %s, reactive mode', (version) => {
  const { rig, test } = useRig(version, () => Rig.start(version, { reactive: true, taskManagers: 1, rate: 600, costUs: 100, clusterConfig: adaptiveClusterConfig(version) }));

  test('1 → 2 TaskManagers (p 2 → 4, Flink rescales by itself), then back to 1 TaskManager (p 2); the verdict is clean', async () => {
    const r = rig();
    expect(r.jobConfig.mode).toBe('reactive');
    const jobId = (await r.job.currentJob())!.id;
    expect(await r.job.parallelism()).toBe(2); // every slot of the one TaskManager
    const before = await r.job.verdict();

    const up = await r.rescale({ parallelism: 4 });
    expect(up.status).toBe('SUCCEEDED');
    expect(up.states).toEqual(expect.arrayContaining(['EnsureCapacity', 'CheckParallelism']));
    expect(up.states).not.toEqual(expect.arrayContaining(['Savepoint']));
    expect(up.states).not.toEqual(expect.arrayContaining(['PutRequirements']));
    expect(r.job.cluster.taskManagerIds()).toEqual(['tm-1', 'tm-2']);
    expect((await r.job.currentJob())!.id).toBe(jobId);
    expect(await r.job.parallelism()).toBe(4);
    expect(up.notification?.subject).toMatch(/rescaled 2 -> 4/);

    await new Promise((res) => setTimeout(res, 4000));
    const mid = await r.job.verdict();
    expect(mid.subtasks).toBe(4);
    expect(mid.checked).toBeGreaterThan(before.checked);
    expect(mid).toMatchObject({ lost: 0, duplicated: 0 });

    const down = await r.rescale({ parallelism: 2 });
    expect(down.status).toBe('SUCCEEDED');
    expect(down.states).toEqual(expect.arrayContaining(['ShrinkCapacity', 'CheckParallelism']));
    expect(down.states).not.toEqual(expect.arrayContaining(['CheckDrained']));
    expect(r.job.cluster.taskManagerIds()).toHaveLength(1);
    expect((await r.job.currentJob())!.id).toBe(jobId);
    expect(await r.job.parallelism()).toBe(2);
    expect(down.notification?.subject).toMatch(/rescaled 4 -> 2/);

    await new Promise((res) => setTimeout(res, 4000));
    const after = await r.job.verdict();
    expect(after.subtasks).toBe(2);
    expect(after.checked).toBeGreaterThan(mid.checked);
    expect(after).toMatchObject({ lost: 0, duplicated: 0 });

    recordFigures('reactive 1→2→1 TMs', version, {
      jobId,
      up: { ...phases(up.notification), wallSeconds: up.ms / 1000 },
      down: { ...phases(down.notification), wallSeconds: down.ms / 1000 },
      verdict: after,
    });
  });
});
