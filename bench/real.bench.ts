/**
 * `npm run bench -- real`: head to head on a real Flink 1.20.5 session cluster (adaptive scheduler, in-place
 * rescale): the Flink Kubernetes Operator's autoscaler (flink-autoscaler 1.10.0 under our thin driver,
 * peers/flink-autoscaler-driver/) and flink-elastic in adaptive mode, each on its own fresh cluster, the same test job
 * and the same producer-rate trace, compressed to ~11.5 min wall each. One cluster at a time.
 *
 * Selected by name (`npm run bench -- real`) it runs live and writes bench/results/real.json and real.txt; run as part
 * of a plain `npm run bench` it prints the committed table instead (two real runs take ~25 min).
 * `BENCH_REAL_POLICIES=operator` (or `flink-elastic`) runs one side only.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../functions/core/config';
import { FlinkRestClient } from '../functions/adapters/flink/client';
import { runLocalLoop } from '../local/driver/loop';
import { FileStateStore } from '../local/file-state-store';
import { RealFlinkJob } from '../local/real-flink/harness';
import { LocalProcessTarget } from '../local/real-flink/process-target';
import { AUTOSCALER_VERSION, OperatorPeer } from '../local/real-flink/operator-peer';

const RESULTS = join(__dirname, 'results');
const VERSION = '1.20.5';
/** One subtask of the test job handles ~500 rec/s at 2 ms of CPU a record (on an idle core). */
const COST_US = 2000;
const SLOTS_PER_TM = 2;
const MAX_TMS = 2;
const MAX_P = MAX_TMS * SLOTS_PER_TM;
const SLO_BACKLOG_SECONDS = 10;
const SAMPLE_MS = 2000;

/** step-up-and-back, compressed: 100 rec/s (p 1 suffices), 600 rec/s (p 1 cannot keep up), back to 100. */
export const SCENARIO = {
  name: 'step-up-and-back',
  phases: [
    { untilS: 120, rate: 100 },
    { untilS: 360, rate: 600 },
    { untilS: 690, rate: 100 },
  ],
};
const rateAt = (s: number) => (SCENARIO.phases.find((p) => s < p.untilS) ?? SCENARIO.phases[SCENARIO.phases.length - 1]).rate;
const DURATION_S = SCENARIO.phases[SCENARIO.phases.length - 1].untilS;

/** Time compression for the operator's duration settings: each default divided by K (control loop: 10 s → 5 s). */
const K = 15;
export const OPERATOR_OPTIONS: Record<string, string | number> = {
  'job.autoscaler.metrics.window': `${(15 * 60) / K}s`, // default 15 min
  'job.autoscaler.stabilization.interval': `${(5 * 60) / K}s`, // default 5 min
  'job.autoscaler.scale-down.interval': `${3600 / K}s`, // default 1 h
  'job.autoscaler.catch-up.duration': `${(30 * 60) / K}s`, // default 30 min
  'job.autoscaler.restart.time': `${(5 * 60) / K}s`, // default 5 min
  'job.autoscaler.backlog-processing.lag-threshold': `${(5 * 60) / K}s`, // default 5 min
  'job.autoscaler.observed-true-processing-rate.lag-threshold': `${30 / K}s`, // default 30 s
  'job.autoscaler.scaling.event.interval': `${(30 * 60) / K}s`, // default 30 min (event de-duplication only)
  'job.autoscaler.vertex.max-parallelism': MAX_P, // default 200: the pool's slots
};
const OPERATOR_INTERVAL_S = 5; // standalone default 10 s

/** Adaptive scheduler settings shared by both runs (as the real-Flink tier's adaptive test sets them). */
const CLUSTER_CONFIG = { 'jobmanager.adaptive-scheduler.scaling-interval.min': '2 s', 'slot.idle.timeout': 3000 };

interface Sample {
  t: number;
  rate: number;
  pending?: number;
  parallelism: number;
  taskManagers: number;
}

export interface RunFigures {
  policy: string;
  settings: Record<string, unknown>;
  wallSeconds: number;
  rescales: number;
  rescaleTimes: { atS: number; from: number; to: number }[];
  convergeSeconds: (number | null)[];
  maxBacklogRecords: number;
  maxBacklogSeconds: number;
  sloViolationSeconds: number;
  slotHours: number;
  tmHours: number;
  lost: number | null;
  duplicated: number | null;
  checked: number | null;
  samples: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10000) / 10000;

/** Figures from the samples: after each step (phase start), the time until the parallelism stopped changing in that phase and the backlog was under the SLO from then on. */
export function figures(policy: string, settings: Record<string, unknown>, samples: Sample[], wallSeconds: number, verdict: { lost: number; duplicated: number; checked: number } | null): RunFigures {
  const rescaleTimes: RunFigures['rescaleTimes'] = [];
  for (let i = 1; i < samples.length; i++) if (samples[i].parallelism !== samples[i - 1].parallelism && samples[i].parallelism > 0 && samples[i - 1].parallelism > 0) rescaleTimes.push({ atS: Math.round(samples[i].t), from: samples[i - 1].parallelism, to: samples[i].parallelism });
  let slo = 0;
  let slot = 0;
  let tm = 0;
  let maxRec = 0;
  let maxSec = 0;
  const backlogS = (s: Sample) => (s.pending ?? 0) / Math.max(1, s.rate);
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i].t - samples[i - 1].t;
    const s = samples[i];
    if (backlogS(s) > SLO_BACKLOG_SECONDS) slo += dt;
    slot += (dt * s.parallelism) / 3600;
    tm += (dt * s.taskManagers) / 3600;
    maxRec = Math.max(maxRec, s.pending ?? 0);
    maxSec = Math.max(maxSec, backlogS(s));
  }
  const convergeSeconds = SCENARIO.phases.slice(1).map((ph, idx) => {
    const start = SCENARIO.phases[idx].untilS;
    const inPhase = samples.filter((s) => s.t >= start && s.t < ph.untilS);
    if (!inPhase.length) return null;
    const last = inPhase[inPhase.length - 1];
    // the last sample from which on both the parallelism stayed at its final value and the backlog met the SLO
    let k = inPhase.length - 1;
    if (backlogS(last) > SLO_BACKLOG_SECONDS) return null;
    while (k > 0 && inPhase[k - 1].parallelism === last.parallelism && backlogS(inPhase[k - 1]) <= SLO_BACKLOG_SECONDS) k--;
    return Math.round(inPhase[k].t - start);
  });
  return {
    policy,
    settings,
    wallSeconds: Math.round(wallSeconds),
    rescales: rescaleTimes.length,
    rescaleTimes,
    convergeSeconds,
    maxBacklogRecords: Math.round(maxRec),
    maxBacklogSeconds: r2(maxSec),
    sloViolationSeconds: Math.round(slo),
    slotHours: r4(slot),
    tmHours: r4(tm),
    lost: verdict?.lost ?? null,
    duplicated: verdict?.duplicated ?? null,
    checked: verdict?.checked ?? null,
    samples: samples.length,
  };
}

/** Samples the job every SAMPLE_MS while the trace plays, until DURATION_S. */
async function playAndSample(job: RealFlinkJob, flink: FlinkRestClient, t0: number, log: (l: string) => void): Promise<Sample[]> {
  const samples: Sample[] = [];
  let src: string | undefined;
  while ((Date.now() - t0) / 1000 < DURATION_S) {
    const t = (Date.now() - t0) / 1000;
    const rate = rateAt(t);
    job.setRate(rate);
    try {
      const j = await job.currentJob();
      let parallelism = 0;
      let pending: number | undefined;
      if (j) {
        const d = (await job.get(`/jobs/${j.id}`)) as { vertices: { id: string; name: string; parallelism: number; status: string }[] };
        parallelism = Math.max(...d.vertices.map((v) => v.parallelism));
        src = d.vertices.find((v) => /source/i.test(v.name))?.id ?? d.vertices[0].id;
        pending = (await flink.vertexMetrics(j.id, src).catch(() => ({ pendingRecords: undefined }))).pendingRecords;
      }
      const taskManagers = (await flink.taskManagers().catch(() => [])).length;
      samples.push({ t, rate, pending, parallelism, taskManagers });
      if (samples.length % 15 === 0) log(`  t=${Math.round(t)} s rate ${rate} p ${parallelism} TMs ${taskManagers} pending ${pending ?? '?'}`);
    } catch (e) {
      log(`  sample failed: ${(e as Error).message}`);
    }
    await sleep(Math.max(0, SAMPLE_MS - (((Date.now() - t0) % SAMPLE_MS) || 0)));
  }
  return samples;
}

async function startJob(taskManagers: number, log: (l: string) => void): Promise<RealFlinkJob> {
  return RealFlinkJob.start({ version: VERSION, scheduler: 'adaptive', taskManagers, slotsPerTaskManager: SLOTS_PER_TM, parallelism: 1, rate: rateAt(0), costUs: COST_US, clusterConfig: CLUSTER_CONFIG, log });
}

async function verdictOf(job: RealFlinkJob) {
  await sleep(5000);
  return job.verdict(60_000).catch(() => null);
}

/** The operator's autoscaler: a fixed pool of MAX_TMS TaskManagers (the standalone autoscaler rescales the job, never the pool). */
export async function runOperator(log: (l: string) => void): Promise<RunFigures> {
  const job = await startJob(MAX_TMS, log);
  try {
    const flink = new FlinkRestClient({ baseUrl: job.cluster.restUrl, timeoutMs: 10_000, retries: 1, version: '1.20' });
    const jobId = (await job.currentJob())!.id;
    const peer = await OperatorPeer.start({
      restUrl: job.cluster.restUrl,
      jobId,
      intervalSeconds: OPERATOR_INTERVAL_S,
      options: OPERATOR_OPTIONS,
      logFile: join(job.cluster.logDir, 'operator-peer.log'),
      onLine: (l) => {
        if (l.type === 'decision') log(`  operator decision: ${Object.values(l.vertices).map((v) => `${v.name} ${v.from} → ${v.to}`).join(', ')}`);
        if (l.type === 'error') log(`  operator error: ${l.message}`);
      },
    });
    const t0 = Date.now();
    let samples: Sample[];
    try {
      samples = await playAndSample(job, flink, t0, log);
    } finally {
      await peer.stop();
    }
    const wall = (Date.now() - t0) / 1000;
    const v = await verdictOf(job);
    const f = figures(`flink-operator autoscaler ${AUTOSCALER_VERSION}`, { options: OPERATOR_OPTIONS, controlLoopSeconds: OPERATOR_INTERVAL_S, taskManagers: `${MAX_TMS} fixed` }, samples, wall, v);
    return { ...f, decisions: peer.decisions.map((d) => ({ atS: Math.round((d.at - t0) / 1000), maxParallelism: d.maxParallelism })) } as RunFigures;
  } finally {
    await job.stop();
  }
}

/** flink-elastic in adaptive mode, as `flink-elastic run --local --real-flink` drives it (alarm period 10 s), TaskManagers 1..MAX_TMS. */
export async function runFlinkElastic(log: (l: string) => void): Promise<RunFigures> {
  const job = await startJob(1, log);
  try {
    const job1 = {
      lag: { source: { type: 'flink-pending-records' }, highThreshold: 2000, lowThreshold: 100 },
      scaleDownDelaySeconds: Math.round((DURATION_S * 1000) / 8000),
      cooldownSeconds: 30,
    };
    const config = parseConfig(job.configDoc({ name: 'load', mode: 'adaptive', bounds: { maxParallelism: MAX_P, maxTaskManagers: MAX_TMS }, job: job1 }), 'real bench');
    const jc = config.jobs[0];
    const flink = new FlinkRestClient({ baseUrl: job.cluster.restUrl, timeoutMs: 10_000, retries: 3, version: jc.flink.version });
    const target = new LocalProcessTarget({ cluster: job.cluster, flink, bounds: jc.bounds });
    const stateDir = join(job.cluster.logDir, '..');
    const stop = new AbortController();
    const t0 = Date.now();
    const loop = runLocalLoop({
      config,
      store: new FileStateStore(resolve(stateDir, 'state.json')),
      target: () => target,
      flink: (_j, use) => (use === 'act' ? flink : new FlinkRestClient({ baseUrl: job.cluster.restUrl, timeoutMs: 10_000, retries: 0, version: jc.flink.version })),
      alarmPeriodSeconds: 10,
      collectEveryMs: 5000,
      reevaluateEveryMs: 60_000,
      waitSeconds: 2,
      durationMs: DURATION_S * 1000 + 60_000,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'execution-started') log(`  flink-elastic rescale started`);
      },
    });
    const samples = await playAndSample(job, flink, t0, log);
    stop.abort();
    const r = await loop;
    const wall = (Date.now() - t0) / 1000;
    const v = await verdictOf(job);
    const f = figures('flink-elastic (adaptive)', { alarmPeriodSeconds: 10, collectEveryMs: 5000, ...job1, taskManagers: `1..${MAX_TMS}` }, samples, wall, v);
    return { ...f, executions: r.executions.map((e) => ({ atS: Math.round((e.start - t0) / 1000), status: e.status, parallelism: e.input.parallelism })) } as RunFigures;
  } finally {
    await job.stop();
  }
}

export function table(runs: RunFigures[]): string {
  const head = ['policy', 'rescales', 'converge up/down s', 'max backlog rec (s)', 'SLO-viol s', 'slot-h', 'TM-h', 'lost/dup', 'wall s'];
  const rows = runs.map((r) => [
    r.policy,
    String(r.rescales),
    r.convergeSeconds.map((c) => (c === null ? 'never' : String(c))).join(' / '),
    `${r.maxBacklogRecords} (${r.maxBacklogSeconds})`,
    String(r.sloViolationSeconds),
    r.slotHours.toFixed(3),
    r.tmHours.toFixed(3),
    r.lost === null ? 'no verdict' : `${r.lost}/${r.duplicated}`,
    String(r.wallSeconds),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(w[i])).join('  ');
  return [
    `Real Flink ${VERSION}, adaptive scheduler, scenario ${SCENARIO.name}: ${SCENARIO.phases.map((p) => `${p.rate} rec/s until ${p.untilS} s`).join(', ')}; SLO: backlog ≤ ${SLO_BACKLOG_SECONDS} s; pool ≤ ${MAX_TMS} TMs × ${SLOTS_PER_TM} slots`,
    line(head),
    line(w.map((n) => '-'.repeat(n))),
    ...rows.map(line),
  ].join('\n');
}

export async function run(): Promise<void> {
  const live = process.argv.slice(2).some((a) => a === 'real' || a.includes('real'));
  const file = join(RESULTS, 'real.json');
  if (!live) {
    if (existsSync(file)) process.stdout.write(`${readFileSync(join(RESULTS, 'real.txt'), 'utf8')}\n(committed results; \`npm run bench -- real\` runs it live, ~25 min)\n`);
    else process.stdout.write('no committed real results; `npm run bench -- real` runs it live\n');
    return;
  }
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const which = (process.env.BENCH_REAL_POLICIES ?? 'operator,flink-elastic').split(',');
  const runs: RunFigures[] = [];
  mkdirSync(RESULTS, { recursive: true });
  const save = () => {
    writeFileSync(file, `${JSON.stringify({ measuredAt: new Date().toISOString(), flink: VERSION, scenario: SCENARIO, sampleMs: SAMPLE_MS, runs }, null, 2)}\n`);
    writeFileSync(join(RESULTS, 'real.txt'), `${table(runs)}\n`);
  };
  if (which.includes('operator')) {
    log('operator peer: starting a real Flink cluster (2 TMs, adaptive)…');
    runs.push(await runOperator(log));
    save();
  }
  if (which.includes('flink-elastic')) {
    log('flink-elastic: starting a real Flink cluster (1 TM, adaptive)…');
    runs.push(await runFlinkElastic(log));
    save();
  }
  process.stdout.write(`${table(runs)}\n`);
}
