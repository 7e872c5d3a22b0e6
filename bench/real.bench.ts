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
import { fit, oracleFloor } from '../local/oracle';
import { describeTarget, requestedParallelism } from '../functions/core/rescale/input';

const RESULTS = join(__dirname, 'results');
const VERSION = '1.20.5';
/** One subtask of the test job handles ~500 rec/s at 2 ms of CPU a record (on an idle core): the oracle's capacity. */
const COST_US = 2000;
export const SUBTASK_CAPACITY = 1_000_000 / COST_US;
/** One slot per TaskManager, so TaskManagers follow the parallelism and TM-hours say what a pool costs. */
const SLOTS_PER_TM = 1;
const MAX_TMS = 3;
const MAX_P = MAX_TMS * SLOTS_PER_TM;
const SLO_BACKLOG_SECONDS = 10;
const SAMPLE_MS = 2000;
/** Both policies' default target utilization (flink-elastic `targetUtilization`, the operator's `job.autoscaler.utilization.target`). */
export const TARGET_UTILIZATION = 0.7;

/** A phase of a trace: `rate` records/s until `untilS` (from the previous phase's end); with `toRate`, a linear ramp to it. */
export interface Phase {
  untilS: number;
  rate: number;
  toRate?: number;
}
export interface RealScenario {
  name: string;
  phases: Phase[];
  /** Multiplicative noise, a new seeded draw every `everyS` (uniform in ±amplitude). */
  noise?: { amplitude: number; everyS: number; seed: number };
}

/** The issue's four shapes, each compressed to 7–10 min wall; the rates need parallelism 1–2 at the target utilization (1–2 at 100 %). */
export const SCENARIOS: RealScenario[] = [
  { name: 'step-up-and-back', phases: [{ untilS: 90, rate: 100 }, { untilS: 330, rate: 600 }, { untilS: 600, rate: 100 }] },
  { name: 'ramp', phases: [{ untilS: 60, rate: 100 }, { untilS: 360, rate: 100, toRate: 700 }, { untilS: 480, rate: 700 }] },
  { name: 'dip-and-return', phases: [{ untilS: 120, rate: 600 }, { untilS: 330, rate: 100 }, { untilS: 510, rate: 600 }] },
  { name: 'noisy-plateau', phases: [{ untilS: 420, rate: 450 }], noise: { amplitude: 0.3, everyS: 10, seed: 7 } },
];

/** mulberry32: a tiny seeded generator, so a scenario's noise is the same in every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function durationOf(sc: RealScenario): number {
  return sc.phases[sc.phases.length - 1].untilS;
}

/** The producer rate of a scenario at second `s`, whole records/s. */
export function rateFn(sc: RealScenario): (s: number) => number {
  const noise: number[] = [];
  if (sc.noise) {
    const rnd = seeded(sc.noise.seed);
    for (let i = 0; i <= Math.ceil(durationOf(sc) / sc.noise.everyS); i++) noise.push(1 + sc.noise.amplitude * (2 * rnd() - 1));
  }
  return (s) => {
    let from = 0;
    let base = sc.phases[sc.phases.length - 1].toRate ?? sc.phases[sc.phases.length - 1].rate;
    for (const ph of sc.phases) {
      if (s < ph.untilS) {
        base = ph.toRate === undefined ? ph.rate : ph.rate + ((ph.toRate - ph.rate) * (s - from)) / (ph.untilS - from);
        break;
      }
      from = ph.untilS;
    }
    const f = sc.noise ? noise[Math.min(noise.length - 1, Math.floor(Math.max(0, s) / sc.noise.everyS))] : 1;
    return Math.max(1, Math.round(base * f));
  };
}

const POOL = { perSubtaskCapacity: SUBTASK_CAPACITY, slotsPerTaskManager: SLOTS_PER_TM, minParallelism: 1, maxParallelism: MAX_P };

/** The fewest subtasks (and TaskManagers) whose nominal capacity covers `rate` at utilization `u`. */
export function needed(rate: number, u: number): { parallelism: number; taskManagers: number } {
  return fit(POOL, rate, u);
}

/**
 * The oracle floor (local/oracle.ts): knowing the trace, each minute holds the fewest TaskManagers whose capacity
 * covers that minute's highest rate (at 100 % and at the target utilization), with no backlog and no rescale cost.
 */
export function oracle(sc: RealScenario): { at100: { tmHours: number; slotHours: number }; atTarget: { tmHours: number; slotHours: number } } {
  const rate = rateFn(sc);
  const job = { ...POOL, rate: (tMs: number) => rate(Math.floor(tMs / 1000)) };
  const at = (u: number) => {
    const f = oracleFloor([job], durationOf(sc) * 1000, u);
    return { tmHours: f.taskManagerHours, slotHours: f.slotHours };
  };
  return { at100: at(1), atTarget: at(TARGET_UTILIZATION) };
}

/** The parallelism each scenario starts at: what its first minute needs at the target utilization (no inherited overload). */
export function startParallelism(sc: RealScenario): number {
  const rate = rateFn(sc);
  let peak = 0;
  for (let s = 0; s < 60; s++) peak = Math.max(peak, rate(s));
  return needed(peak, TARGET_UTILIZATION).parallelism;
}

/**
 * Time compression: every duration setting of both policies is its default divided by K (the operator's control loop:
 * 10 s → 5 s, its floor here; flink-elastic's collector, alarm period and re-evaluation: 60 s → 4 s, floored at 5 s).
 */
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
/** flink-elastic's settings, its defaults divided by K the same way (config.ts: cooldown 60 s, scale-down delay 600 s, catch-up 300 s, restart 60 s). */
export const FLINK_ELASTIC_SETTINGS = {
  cooldownSeconds: Math.round(60 / K),
  scaleDownDelaySeconds: Math.round(600 / K),
  policy: { catchUpSeconds: Math.round(300 / K), restartSeconds: Math.round(60 / K) },
  lag: { source: { type: 'flink-pending-records' }, highThreshold: 2000, lowThreshold: 100 },
};
/** Parses flink-elastic's settings in a config like the one each run builds: a bad setting fails at once, not after a cluster ran. */
export function checkSettings(): void {
  parseConfig(
    {
      deployment: { stackName: 'RealFlink' },
      jobs: [{
        name: 'load',
        flink: { url: 'http://127.0.0.1:8081', version: '1.20' },
        mode: 'adaptive',
        savepoint: { directory: 'file:///tmp/savepoints' },
        target: { kind: 'asg', autoScalingGroupName: 'local-taskmanagers' },
        slotsPerTaskManager: SLOTS_PER_TM,
        bounds: { minParallelism: 1, maxParallelism: MAX_P, minTaskManagers: 1, maxTaskManagers: MAX_TMS },
        ...FLINK_ELASTIC_SETTINGS,
      }],
    },
    'real bench (flink-elastic settings)',
  );
}
const FE_PERIOD_S = 5; // collector, alarm period and re-evaluation (defaults 60 s; 60 / K = 4 s, floored at 5 s)

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

/** Figures from the samples: after each phase boundary, the time until the parallelism stopped changing in that phase and the backlog was under the SLO from then on (null: never). */
export function figures(sc: RealScenario, policy: string, settings: Record<string, unknown>, samples: Sample[], wallSeconds: number, verdict: { lost: number; duplicated: number; checked: number } | null): RunFigures {
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
  const convergeSeconds = sc.phases.slice(1).map((ph, idx) => {
    const start = sc.phases[idx].untilS;
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

/** Samples the job every SAMPLE_MS while the trace plays. */
async function playAndSample(sc: RealScenario, job: RealFlinkJob, flink: FlinkRestClient, t0: number, log: (l: string) => void): Promise<Sample[]> {
  const samples: Sample[] = [];
  const rateAt = rateFn(sc);
  const duration = durationOf(sc);
  let src: string | undefined;
  while ((Date.now() - t0) / 1000 < duration) {
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
      if (samples.length % 15 === 0) log(`  [${sc.name}] t=${Math.round(t)}/${duration} s rate ${rate} p ${parallelism} TMs ${taskManagers} pending ${pending ?? '?'}`);
    } catch (e) {
      log(`  sample failed: ${(e as Error).message}`);
    }
    await sleep(Math.max(0, SAMPLE_MS - (((Date.now() - t0) % SAMPLE_MS) || 0)));
  }
  return samples;
}

async function startJob(sc: RealScenario, taskManagers: number, log: (l: string) => void): Promise<RealFlinkJob> {
  return RealFlinkJob.start({ version: VERSION, scheduler: 'adaptive', taskManagers, slotsPerTaskManager: SLOTS_PER_TM, parallelism: startParallelism(sc), rate: rateFn(sc)(0), costUs: COST_US, clusterConfig: CLUSTER_CONFIG, log });
}

async function verdictOf(job: RealFlinkJob) {
  await sleep(5000);
  return job.verdict(60_000).catch(() => null);
}

/** The operator's autoscaler: a fixed pool of MAX_TMS TaskManagers (the standalone autoscaler rescales the job, never the pool). */
export async function runOperator(sc: RealScenario, log: (l: string) => void): Promise<RunFigures> {
  const job = await startJob(sc, MAX_TMS, log);
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
      samples = await playAndSample(sc, job, flink, t0, log);
    } finally {
      await peer.stop();
    }
    const wall = (Date.now() - t0) / 1000;
    const v = await verdictOf(job);
    const f = figures(sc, `flink-operator autoscaler ${AUTOSCALER_VERSION}`, { options: OPERATOR_OPTIONS, controlLoopSeconds: OPERATOR_INTERVAL_S, taskManagers: `${MAX_TMS} fixed` }, samples, wall, v);
    return { ...f, decisions: peer.decisions.map((d) => ({ atS: Math.round((d.at - t0) / 1000), maxParallelism: d.maxParallelism })) } as RunFigures;
  } finally {
    await job.stop();
  }
}

/** flink-elastic in adaptive mode, as `flink-elastic run --local --real-flink` drives it, TaskManagers 1..MAX_TMS. */
export async function runFlinkElastic(sc: RealScenario, log: (l: string) => void): Promise<RunFigures> {
  const p0 = startParallelism(sc);
  const job = await startJob(sc, Math.ceil(p0 / SLOTS_PER_TM), log);
  try {
    const config = parseConfig(job.configDoc({ name: 'load', mode: 'adaptive', bounds: { maxParallelism: MAX_P, maxTaskManagers: MAX_TMS }, job: FLINK_ELASTIC_SETTINGS }), 'real bench');
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
      alarmPeriodSeconds: FE_PERIOD_S,
      collectEveryMs: FE_PERIOD_S * 1000,
      reevaluateEveryMs: FE_PERIOD_S * 1000,
      waitSeconds: 2,
      durationMs: durationOf(sc) * 1000 + 60_000,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'execution-started') log(`  flink-elastic rescale started → ${describeTarget(e.input)}`);
      },
    });
    const samples = await playAndSample(sc, job, flink, t0, log);
    stop.abort();
    const r = await loop;
    const wall = (Date.now() - t0) / 1000;
    const v = await verdictOf(job);
    const f = figures(sc, 'flink-elastic (adaptive)', { alarmPeriodSeconds: FE_PERIOD_S, collectEverySeconds: FE_PERIOD_S, reevaluateEverySeconds: FE_PERIOD_S, ...FLINK_ELASTIC_SETTINGS, taskManagers: `1..${MAX_TMS}` }, samples, wall, v);
    return {
      ...f,
      executions: r.executions.map((e) => ({ atS: Math.round((e.start - t0) / 1000), status: e.status, parallelism: requestedParallelism(e.input), perVertex: e.input.vertexParallelism, outcome: e.outcome })),
      // every decision that was not "nothing to do", with its explanation
      decisions: r.decisions.filter((d) => d.result.outcome !== 'no-change').map((d) => ({ atS: Math.round((d.at - t0) / 1000), trigger: d.trigger, outcome: d.result.outcome, reason: (d.result as { reason?: string }).reason })),
    } as RunFigures;
  } finally {
    await job.stop();
  }
}

export interface ScenarioResult {
  scenario: RealScenario;
  measuredAt: string;
  startParallelism: number;
  oracle: ReturnType<typeof oracle>;
  runs: RunFigures[];
}

const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : a === 0 ? '0/0' : '∞');

/** The goal line: flink-elastic's SLO-violation seconds ÷ the best peer's (goal ≤ 0.2) and TM-hours ÷ the oracle's at the target utilization (goal ≤ 1.1). */
export function goalLine(res: ScenarioResult): string {
  const fe = res.runs.find((r) => r.policy.startsWith('flink-elastic'));
  const peers = res.runs.filter((r) => r !== fe);
  if (!fe || peers.length === 0) return `goal: needs flink-elastic and at least one peer (have ${res.runs.map((r) => r.policy).join(', ') || 'none'})`;
  const best = peers.reduce((a, b) => (b.sloViolationSeconds < a.sloViolationSeconds ? b : a));
  const sloMet = fe.sloViolationSeconds <= 0.2 * best.sloViolationSeconds || (fe.sloViolationSeconds === 0 && best.sloViolationSeconds === 0);
  const tmRatio = fe.tmHours / res.oracle.atTarget.tmHours;
  const parts = [
    `SLO-violation s ÷ best peer's (${best.policy}, ${best.sloViolationSeconds} s): ${ratio(fe.sloViolationSeconds, best.sloViolationSeconds)} (goal ≤ 0.2${fe.sloViolationSeconds === 0 && best.sloViolationSeconds === 0 ? '; both 0' : ''}) ${sloMet ? 'met' : 'MISSED'}`,
    `TM-h ÷ oracle's at ${TARGET_UTILIZATION * 100} %: ${tmRatio.toFixed(2)} (goal ≤ 1.1) ${tmRatio <= 1.1 ? 'met' : 'MISSED'}`,
  ];
  const lost = peers.filter((p) => p.sloViolationSeconds < fe.sloViolationSeconds || p.tmHours < fe.tmHours);
  for (const p of lost) {
    const what = [p.sloViolationSeconds < fe.sloViolationSeconds ? `fewer SLO-violation seconds (${p.sloViolationSeconds} vs ${fe.sloViolationSeconds})` : '', p.tmHours < fe.tmHours ? `fewer TM-hours (${p.tmHours.toFixed(3)} vs ${fe.tmHours.toFixed(3)})` : ''].filter(Boolean).join(' and ');
    parts.push(`flink-elastic LOSES to ${p.policy} on ${what}`);
  }
  return `goal: ${parts.join('; ')}`;
}

export function table(res: ScenarioResult): string {
  const head = ['policy', 'rescales', 'converge s (per step)', 'max backlog rec (s)', 'SLO-viol s', 'slot-h', 'TM-h', 'TM-h ÷ oracle', 'lost/dup', 'wall s'];
  const o = res.oracle;
  const rows = res.runs.map((r) => [
    r.policy,
    String(r.rescales),
    r.convergeSeconds.map((c) => (c === null ? 'never' : String(c))).join(' / ') || '-',
    `${r.maxBacklogRecords} (${r.maxBacklogSeconds})`,
    String(r.sloViolationSeconds),
    r.slotHours.toFixed(3),
    r.tmHours.toFixed(3),
    (r.tmHours / o.atTarget.tmHours).toFixed(2),
    r.lost === null ? 'no verdict' : `${r.lost}/${r.duplicated}`,
    String(r.wallSeconds),
  ]);
  rows.push([`oracle @ ${TARGET_UTILIZATION * 100} % (floor)`, '-', '-', '0', '0', o.atTarget.slotHours.toFixed(3), o.atTarget.tmHours.toFixed(3), '1.00', '-', '-']);
  rows.push(['oracle @ 100 %', '-', '-', '0', '0', o.at100.slotHours.toFixed(3), o.at100.tmHours.toFixed(3), (o.at100.tmHours / o.atTarget.tmHours).toFixed(2), '-', '-']);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(w[i])).join('  ');
  const sc = res.scenario;
  const shape = sc.phases.map((p) => (p.toRate === undefined ? `${p.rate}` : `${p.rate}→${p.toRate}`) + ` rec/s until ${p.untilS} s`).join(', ') + (sc.noise ? ` (×(1 ± ${sc.noise.amplitude}) every ${sc.noise.everyS} s, seed ${sc.noise.seed})` : '');
  return [
    `${sc.name}: ${shape}; starts at p ${res.startParallelism}; measured ${res.measuredAt}`,
    line(head),
    line(w.map((n) => '-'.repeat(n))),
    ...rows.map(line),
    goalLine(res),
  ].join('\n');
}

function header(): string {
  return `Real Flink ${VERSION}, adaptive scheduler; SLO: backlog ≤ ${SLO_BACKLOG_SECONDS} s; pool ≤ ${MAX_TMS} TMs × ${SLOTS_PER_TM} slot; one subtask ≈ ${SUBTASK_CAPACITY} rec/s (the oracle's capacity); both policies' durations = defaults ÷ ${K}`;
}

export function report(results: ScenarioResult[]): string {
  return [header(), '', ...results.map((r) => `${table(r)}\n`)].join('\n');
}

export async function run(): Promise<void> {
  const live = process.argv.slice(2).some((a) => a === 'real' || a.includes('real'));
  const file = join(RESULTS, 'real.json');
  const committed: ScenarioResult[] = existsSync(file) ? ((JSON.parse(readFileSync(file, 'utf8')) as { scenarios?: ScenarioResult[] }).scenarios ?? []) : [];
  if (!live) {
    if (committed.length) process.stdout.write(`${report(committed)}\n(committed results; \`npm run bench -- real\` runs them live, ~80 min; BENCH_REAL_SCENARIOS=name,… for some)\n`);
    else process.stdout.write('no committed real results; `npm run bench -- real` runs them live\n');
    return;
  }
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const which = (process.env.BENCH_REAL_POLICIES ?? 'operator,flink-elastic').split(',');
  const names = process.env.BENCH_REAL_SCENARIOS?.split(',');
  const unknown = names?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
  if (unknown.length) throw new Error(`BENCH_REAL_SCENARIOS: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const todo = SCENARIOS.filter((s) => !names || names.includes(s.name));
  // the flink-elastic config is checked before any cluster starts (a bad setting fails in a second, not after a run)
  checkSettings();
  mkdirSync(RESULTS, { recursive: true });
  const results = new Map(committed.map((r) => [r.scenario.name, r]));
  const save = () => {
    const all = SCENARIOS.map((s) => results.get(s.name)).filter((r): r is ScenarioResult => r !== undefined);
    writeFileSync(file, `${JSON.stringify({ flink: VERSION, sampleMs: SAMPLE_MS, scenarios: all }, null, 2)}\n`);
    writeFileSync(join(RESULTS, 'real.txt'), `${report(all)}\n`);
  };
  for (const [i, sc] of todo.entries()) {
    // a run replaces the committed run of the same policy in this scenario; the other policy's committed run stays
    const kept = (results.get(sc.name)?.runs ?? []).filter((r) => !(which.includes('operator') && r.policy.startsWith('flink-operator')) && !(which.includes('flink-elastic') && r.policy.startsWith('flink-elastic')));
    const res: ScenarioResult = { scenario: sc, measuredAt: new Date().toISOString(), startParallelism: startParallelism(sc), oracle: oracle(sc), runs: kept };
    if (which.includes('operator')) {
      log(`[${i + 1}/${todo.length}] ${sc.name}, operator peer: a real Flink cluster (${MAX_TMS} TMs, adaptive), ${durationOf(sc)} s…`);
      res.runs.push(await runOperator(sc, log));
      results.set(sc.name, res);
      save();
    }
    if (which.includes('flink-elastic')) {
      log(`[${i + 1}/${todo.length}] ${sc.name}, flink-elastic: a real Flink cluster (adaptive), ${durationOf(sc)} s…`);
      res.runs.push(await runFlinkElastic(sc, log));
      results.set(sc.name, res);
      save();
    }
    process.stdout.write(`${table(res)}\n\n`);
  }
}
