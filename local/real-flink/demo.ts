/**
 * `flink-elastic run --local --real-flink [VERSION]`: the default scenario (a step up and back), shortened, against a
 * real Flink standalone cluster this starts on this machine with the project's test job. The real-time local driver
 * (local/driver/loop.ts) runs the collector, the synthesized alarms (period shortened to 10 s), the scaler and the
 * synthesized workflow; TaskManager processes are the capacity target. At the end the sink's verdict says whether any
 * record was lost or counted twice across the rescales.
 */
import { resolve } from 'node:path';
import { parseConfig } from '../../functions/core/config';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { runLocalLoop } from '../driver/loop';
import { formatLoopEvent, formatLoopSummary } from '../driver/print';
import { FileStateStore } from '../file-state-store';
import { RealFlinkJob } from './harness';
import { LocalProcessTarget } from './process-target';

export interface DemoOptions {
  version?: string;
  scenario?: string;
  durationMs?: number;
  stateFile: string;
  signal?: AbortSignal;
  out: (line: string) => void;
  json?: boolean;
  verboseSteps?: boolean;
}

/** Producer rate (records/s) over the run: one subtask of the test job handles ~500 rec/s (2 ms of CPU a record). */
export const DEMO_SCENARIOS: Record<string, { description: string; rate: (fraction: number) => number }> = {
  'step-spike': { description: 'steady 150 rec/s, a step to 600 rec/s for 35 % of the run, then back', rate: (f) => (f >= 0.2 && f < 0.55 ? 600 : 150) },
  ramp: { description: 'a ramp from 100 to 700 rec/s over the first 60 % of the run, then back to 100', rate: (f) => (f < 0.6 ? 100 + (600 * f) / 0.6 : 100) },
};

export async function runAgainstRealFlink(o: DemoOptions): Promise<boolean> {
  const scenario = DEMO_SCENARIOS[o.scenario ?? 'step-spike'];
  if (!scenario) throw new Error(`--scenario must be one of ${Object.keys(DEMO_SCENARIOS).join(', ')} (got "${o.scenario}")`);
  const durationMs = o.durationMs ?? 8 * 60_000;
  const say = o.json ? (l: string) => process.stderr.write(`${l}\n`) : o.out;
  say(`Starting a real Flink ${o.version ?? ''} standalone cluster with the test job (first run: downloads Flink's jars from PyPI and builds the job with Maven)…`.replace('  ', ' '));
  const job = await RealFlinkJob.start({ version: o.version, taskManagers: 1, parallelism: 1, rate: scenario.rate(0), costUs: 2000, log: say });
  try {
    const config = parseConfig(
      job.configDoc({
        name: 'load',
        bounds: { maxParallelism: 4, maxTaskManagers: 2 },
        job: { lag: { source: { type: 'flink-pending-records' }, highThreshold: 2000, lowThreshold: 100 }, scaleDownDelaySeconds: Math.round(durationMs / 8000), cooldownSeconds: 30 },
      }),
      'real-Flink demo',
    );
    const jc = config.jobs[0];
    const flink = new FlinkRestClient({ baseUrl: job.cluster.restUrl, timeoutMs: 10_000, retries: 3, version: jc.flink.version });
    const target = new LocalProcessTarget({ cluster: job.cluster, flink, bounds: jc.bounds });
    say(`Flink ${job.version} at ${job.cluster.restUrl} (web UI there too); logs ${job.cluster.logDir}`);
    say(`Scenario ${o.scenario ?? 'step-spike'}: ${scenario.description}, over ${Math.round(durationMs / 1000)} s; alarms on a 10 s period (deployed: 60 s)`);
    const start = Date.now();
    const rateTimer = setInterval(() => job.setRate(scenario.rate(Math.min(1, (Date.now() - start) / durationMs))), 1000);
    let r;
    try {
      r = await runLocalLoop({
        config,
        store: new FileStateStore(resolve(o.stateFile)),
        target: () => target,
        flink: (_job, use) => (use === 'act' ? flink : new FlinkRestClient({ baseUrl: job.cluster.restUrl, timeoutMs: 10_000, retries: 0, version: jc.flink.version })),
        alarmPeriodSeconds: 10,
        collectEveryMs: 5000,
        reevaluateEveryMs: 60_000,
        waitSeconds: 2,
        durationMs,
        signal: o.signal,
        onEvent: (e) => {
          if (o.json) o.out(JSON.stringify(e));
          else {
            const line = formatLoopEvent(e, { verboseSteps: o.verboseSteps });
            if (line) o.out(line);
          }
        },
      });
    } finally {
      clearInterval(rateTimer);
    }
    const verdict = await job.verdict().catch((e: Error) => e);
    say(formatLoopSummary(r));
    if (verdict instanceof Error) say(`Verdict: unavailable (${verdict.message})`);
    else say(`Verdict of the sink: ${verdict.checked.toLocaleString('en-US')} records checked per key across ${r.executions.filter((e) => e.status === 'SUCCEEDED').length} rescale(s): ${verdict.lost} lost, ${verdict.duplicated} counted twice`);
    return !(verdict instanceof Error) && verdict.lost === 0 && verdict.duplicated === 0 && r.executions.every((e) => e.status === 'SUCCEEDED');
  } finally {
    say('Stopping the Flink cluster…');
    await job.stop();
  }
}
