/**
 * The whole loop on a real Flink, in real time (local/driver/loop.ts, what `flink-elastic run --local` runs): the
 * collector reads the real cluster, the synthesized lag alarm (period shortened to 5 s) fires on a real rise of the
 * producer rate, the real scaler decides from what was collected, and the synthesized workflow rescales the job.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLocalLoop, type LoopEvent } from '../../local/driver/loop';
import { formatLoopEvent } from '../../local/driver/print';
import { recordFigures, Rig, TIER_VERSIONS, useRig } from './support';

// One subtask handles ~500 rec/s (2 ms of CPU per record); 150 rec/s is steady at p 1, 750 rec/s is not (p 2 is).
const COST_US = 2000;

describe.each(TIER_VERSIONS)('Flink %s, the loop in real time', (version) => {
  const { rig, test } = useRig(version, () =>
    Rig.start(version, { taskManagers: 1, parallelism: 1, rate: 150, costUs: COST_US }, {
      bounds: { maxParallelism: 2, maxTaskManagers: 2 },
      job: { lag: { source: { type: 'flink-pending-records' }, highThreshold: 1000, lowThreshold: 50 }, scaleDownDelaySeconds: 3600 },
    }),
  );

  test('a real rise of the producer rate: the first decision is made from collected metrics, and the job is rescaled', async () => {
    const r = rig();
    const events: LoopEvent[] = [];
    const stop = new AbortController();
    const t0 = Date.now();
    let changedAt = 0;
    const loop = runLocalLoop({
      config: r.config,
      store: r.store,
      target: () => r.target,
      alarmPeriodSeconds: 5,
      collectEveryMs: 2000,
      reevaluateEveryMs: 10_000,
      waitSeconds: 1,
      durationMs: 240_000,
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'execution-ended') stop.abort();
      },
    });
    await new Promise((res) => setTimeout(res, 8000));
    expect(events.some((e) => e.type === 'execution-started')).toBe(false);
    r.job.setRate(750);
    changedAt = Date.now();
    const result = await loop;
    // what happened, for a person reading a failure
    const dir = join(__dirname, '..', '..', 'reports', 'real-flink');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `loop-${version}.log`), events.map((e) => formatLoopEvent(e, { verboseSteps: true })).filter(Boolean).join('\n') + '\n');

    const collected = events.filter((e): e is Extract<LoopEvent, { type: 'collected' }> => e.type === 'collected');
    const alarm = result.alarms.find((a) => a.alarm.endsWith('lag-high') && a.to === 'ALARM');
    expect(alarm).toBeDefined();
    // the lag the collector read from Flink's pendingRecords rose above the threshold before the alarm changed
    const seenBefore = collected.filter((e) => e.at >= changedAt && e.at <= alarm!.at + 1000).map((e) => e.metrics.pendingRecords ?? 0);
    expect(Math.max(...seenBefore)).toBeGreaterThan(1000);
    // nothing was started before the rate rose; the rescale was started on the lag alarm (or a re-evaluation while
    // an alarm is in ALARM), from the figures the collector read
    expect(result.decisions.filter((d) => d.at < changedAt).every((d) => d.result.outcome !== 'started')).toBe(true);
    const started = result.decisions.find((d) => d.result.outcome === 'started');
    expect(started?.trigger).toMatch(/lag-high → ALARM|re-evaluation/);
    expect(started?.result.decision?.direction).toBe('up');
    expect(started?.result.decision?.figures).toBeDefined();

    expect(result.executions).toHaveLength(1);
    const ex = result.executions[0];
    expect(ex.status).toBe('SUCCEEDED');
    expect(await r.job.parallelism()).toBe(ex.input.parallelism);
    expect(ex.input.parallelism).toBe(2);
    await new Promise((res) => setTimeout(res, 5000));
    expect(await r.job.verdict()).toMatchObject({ lost: 0, duplicated: 0 });

    recordFigures('loop: rate 150 → 750 rec/s', version, {
      alarmAfterSeconds: Math.round((alarm!.at - changedAt) / 100) / 10,
      decisionAfterSeconds: Math.round((started!.at - changedAt) / 100) / 10,
      rescaledAfterSeconds: Math.round((ex.end! - changedAt) / 100) / 10,
      rescaleSeconds: Math.round((ex.end! - ex.start) / 100) / 10,
      parallelism: `1 → ${ex.input.parallelism}`,
      reason: started!.result.decision!.reason,
      wallSeconds: Math.round((Date.now() - t0) / 1000),
    });
  });
});
