/**
 * Savepoint mode on a real Flink: the synthesized rescale workflow takes a real savepoint, cancels the job, resubmits
 * the uploaded test jar at the new parallelism from that savepoint, waits until it runs; scale-out starts TaskManager
 * processes first, scale-in waits until the surplus TaskManagers hold no slots (Flink's own answer) and stops exactly
 * those. The sink's verdict (per key, across both restores) must be clean: nothing lost, nothing counted twice.
 */
import { compareVersions } from '../../local/real-flink/distribution';
import { phases, recordFigures, Rig, TIER_VERSIONS, useRig } from './support';

describe.each(TIER_VERSIONS)('Flink %s, savepoint mode', (version) => {
  const { rig, test } = useRig(version, () => Rig.start(version, { taskManagers: 1, parallelism: 1, rate: 600, costUs: 100 }));

  test('p 1 → 4 with a TaskManager added, then 4 → 2 with the surplus TaskManager drained and stopped; the verdict is clean', async () => {
    const r = rig();
    const before = await r.job.verdict();
    const firstJob = (await r.job.currentJob())!.id;

    const up = await r.rescale({ parallelism: 4 });
    expect(up.status).toBe('SUCCEEDED');
    expect(up.states).toEqual(expect.arrayContaining(['EnsureCapacity', 'Savepoint', 'Cancel', 'Resubmit', 'CheckRunning']));
    expect(await r.job.parallelism()).toBe(4);
    expect(r.job.cluster.taskManagerIds()).toEqual(['tm-1', 'tm-2']);
    const secondJob = (await r.job.currentJob())!.id;
    expect(secondJob).not.toBe(firstJob); // resubmitted, not the same job
    expect(up.notification?.subject).toMatch(/rescaled 1 -> 4/);
    expect(up.notification?.message).toMatch(/Savepoint: +file:/);
    // the savepoint the workflow recorded is on disk, under the configured directory
    const sp = /Savepoint: +(\S+)/.exec(up.notification!.message)![1];
    expect(sp.replace(/^file:(\/\/)?/, '/')).toContain(r.job.cluster.savepointDir);

    // restored from the savepoint: the verdict's totals carried over, then grew
    await new Promise((res) => setTimeout(res, 5000));
    const mid = await r.job.verdict();
    expect(mid.subtasks).toBe(4);
    expect(mid.checked).toBeGreaterThan(before.checked);
    expect(mid.lost).toBe(0);
    expect(mid.duplicated).toBe(0);

    const down = await r.rescale({ parallelism: 2 });
    expect(down.status).toBe('SUCCEEDED');
    expect(down.states).toEqual(expect.arrayContaining(['Savepoint', 'Cancel', 'Resubmit', 'CheckDrained', 'ReleaseIdle']));
    expect(await r.job.parallelism()).toBe(2);
    // exactly one TaskManager left, and the one stopped held no slots when it was released
    expect(r.job.cluster.taskManagerIds()).toHaveLength(1);
    expect(down.notification?.message).toMatch(/Released: +tm-\d/);
    const registered = await r.job.cluster.registeredTaskManagers();
    const left = r.job.cluster.taskManagerIds()[0];
    expect(registered).toContain(left);

    await new Promise((res) => setTimeout(res, 5000));
    const after = await r.job.verdict();
    expect(after.subtasks).toBe(2);
    expect(after.checked).toBeGreaterThan(mid.checked);
    expect(after).toMatchObject({ lost: 0, duplicated: 0 });

    recordFigures('savepoint 1→4→2', version, {
      up: { ...phases(up.notification), wallSeconds: up.ms / 1000 },
      down: { ...phases(down.notification), wallSeconds: down.ms / 1000 },
      verdict: after,
    });
  });

  test('per-vertex targets (vertexParallelism): on 1.x the resubmission carries pipeline.jobvertex-parallelism-overrides and Flink honours it, the verdict clean; on 2.x refused up front, the job untouched', async () => {
    const r = rig();
    const job = (await r.job.currentJob())!;
    const details = await r.flink.job(job.id);
    const widest = Math.max(...details.vertices.map((v) => v.parallelism));
    const keep = details.vertices.find((v) => v.parallelism === widest && v.keyedInput) ?? details.vertices[1];
    // one vertex at 2 (or where it is, if wider), every other at 1: a plan no job-level parallelism can express
    const target = Object.fromEntries(details.vertices.map((v) => [v.id, v.id === keep.id ? Math.max(2, widest) : 1]));
    const before = await r.job.verdict();

    const run = await r.rescale({ vertexParallelism: target });
    if (compareVersions(version, '2.0') >= 0) {
      // Flink 2.3.0 ran a jar with this override at the job-level parallelism (measured): refused up front, untouched
      expect(run.status).toBe('FAILED');
      expect(run.states).not.toContain('Savepoint');
      expect(run.notification?.message).toMatch(/vertexParallelism: in mode "savepoint" needs Flink 1\.17 to 1\.20/);
      expect((await r.job.currentJob())!.id).toBe(job.id);
      return;
    }
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(expect.arrayContaining(['Savepoint', 'Cancel', 'Resubmit', 'CheckRunning']));
    const now = (await r.job.currentJob())!;
    expect(now.id).not.toBe(job.id);
    // the same job graph, so the same vertex ids: each runs at its own target, not at one job-level value
    const after = await r.flink.job(now.id);
    expect(Object.fromEntries(after.vertices.map((v) => [v.id, v.parallelism]))).toEqual(target);

    await new Promise((res) => setTimeout(res, 5000));
    const verdict = await r.job.verdict();
    expect(verdict.checked).toBeGreaterThan(before.checked);
    expect(verdict).toMatchObject({ lost: 0, duplicated: 0 });
    recordFigures('savepoint per-vertex', version, { run: { ...phases(run.notification), wallSeconds: run.ms / 1000 }, verdict });
  });
});
