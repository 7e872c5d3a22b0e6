/** What a simulation shows people: the summary table, the progress line, the HTML report's input. */
import type { ReportInput } from '../report';
import type { SimulationProgress, SimulationResult } from './simulate';

export function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');

/** One line: virtual time, and per job input rate, lag, parallelism, TaskManagers, workflow state. */
export function progressLine(p: SimulationProgress): string {
  const pct = p.durationMs > 0 ? Math.floor((100 * p.t) / p.durationMs) : 100;
  const jobs = p.jobs
    .map(
      (j) =>
        `${p.jobs.length > 1 ? `${j.job}: ` : ''}in ${n0(j.inputRate)} rec/s · lag ${n0(j.lagRecords)} (${j.backlogSeconds >= 100 ? n0(j.backlogSeconds) : j.backlogSeconds.toFixed(1)} s) · p ${j.parallelism} · TMs ${j.taskManagers} · ${j.workflow}`,
    )
    .join(' | ');
  return `[${clock(p.t)} ${String(pct).padStart(3)}%] ${jobs}`;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

export function summaryText(r: SimulationResult): string {
  const rows = r.jobs.map((j) => [
    j.job,
    n0(j.sloViolationSeconds),
    j.taskManagerHours.toFixed(2),
    String(j.rescales) + (j.failedRescales ? ` (${j.failedRescales} failed)` : ''),
    j.stepsToConverge.length ? j.stepsToConverge.join('/') : '-',
    n0(j.maxLagRecords),
    j.maxBacklogSecondsSeen.toFixed(1),
    `${j.finalParallelism} / ${j.finalTaskManagers}`,
    String(j.decisions),
  ]);
  const t = r.totals;
  return [
    `Scenario ${r.scenario} (${r.description}), policy ${r.policy} (woken ${r.wake === 'every-minute' ? 'every minute' : 'while an alarm is in ALARM'}), seed ${r.seed}, ${clock(r.durationMs)} of virtual time`,
    '',
    table(['job', 'SLO violation s', 'TM-hours', 'rescales', 'steps to converge', 'max lag (records)', 'max backlog s', 'final p / TMs', 'decisions'], rows),
    '',
    `SLO: seconds with backlog (time lag = backlog ÷ input rate) over the tolerated ${[...new Set(r.jobs.map((j) => j.maxBacklogSeconds))].join('/')} s.`,
    `Step Functions state transitions ${n0(t.stateTransitions)} · Lambda invocations ${n0(t.lambdaInvocations)} (scaler ${n0(t.scalerInvocations)}, collector ${n0(t.collectorInvocations)}, workflow steps ${n0(t.workflowStepInvocations)}) · notifications ${n0(t.notifications)} · invariant checks ${n0(t.invariantChecks)} passed`,
    `Wall time ${(r.wall.ms / 1000).toFixed(1)} s (${n0(r.wall.simulatedSecondsPerWallSecond)} simulated seconds per wall second): setup ${(r.wall.setupMs / 1000).toFixed(1)} s (stack synthesis, state machine), simulation ${(r.wall.loopMs / 1000).toFixed(1)} s (${n0(r.wall.loopSimulatedSecondsPerWallSecond)} simulated seconds per wall second)${r.fidelity === 'full' ? ', full fidelity (dynalite, HTTP)' : ''}`,
    ...failuresText(r),
  ].join('\n');
}

/** Every failed rescale with its reason: empty when none failed. */
export function failuresText(r: SimulationResult): string[] {
  const all = r.jobs.flatMap((j) => j.failures);
  if (all.length === 0) return [];
  return [
    '',
    `FAILED: ${all.length} rescale(s) failed:`,
    ...all.map((f) => `  ${f.job} at ${clock(f.start)}: rescale ${f.from} → ${f.to} ${f.outcome}: ${f.reason}`),
  ];
}

export function reportInput(r: SimulationResult): ReportInput {
  const t = r.totals;
  return {
    title: `flink-elastic simulation: ${r.scenario}`,
    scenario: `${r.scenario} — ${r.description}`,
    policy: r.policy,
    seed: r.seed,
    durationMs: r.durationMs,
    generatedBy: 'flink-elastic simulate',
    summary: [
      ...r.jobs.map((j) => ({
        label: `${j.job}`,
        value: `SLO violation ${n0(j.sloViolationSeconds)} s · ${j.taskManagerHours.toFixed(2)} TM-hours · ${j.rescales} rescale(s)${j.failedRescales ? `, ${j.failedRescales} FAILED` : ''} · max lag ${n0(j.maxLagRecords)} records (${j.maxBacklogSecondsSeen.toFixed(1)} s) · final parallelism ${j.finalParallelism}, ${j.finalTaskManagers} TMs`,
      })),
      ...r.jobs.flatMap((j) => j.failures).map((f) => ({ label: `FAILED rescale of ${f.job}`, value: `at ${clock(f.start)}: ${f.from} → ${f.to} ${f.outcome}: ${f.reason}` })),
      { label: 'Step Functions state transitions', value: n0(t.stateTransitions) },
      { label: 'Lambda invocations', value: `${n0(t.lambdaInvocations)} (scaler ${n0(t.scalerInvocations)}, collector ${n0(t.collectorInvocations)}, workflow steps ${n0(t.workflowStepInvocations)})` },
      { label: 'Invariant checks passed', value: n0(t.invariantChecks) },
    ],
    jobs: r.runs,
  };
}
