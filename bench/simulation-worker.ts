/**
 * One benchmark run in its own process (bench/simulation.bench.ts starts several at a time): simulates one scenario
 * with one policy and prints one JSON line with the figures.
 */
import { simulate } from '../local/simulator';

export interface BenchRow {
  scenario: string;
  policy: string;
  seed: number;
  virtualSeconds: number;
  sloViolationSeconds: number;
  taskManagerHours: number;
  rescales: number;
  failedRescales: number;
  /** Per job, rescales after each step change ("1/1"; jobs separated by spaces). */
  stepsToConverge: string;
  maxLagRecords: number;
  stateTransitions: number;
  lambdaInvocations: number;
  scalerInvocations: number;
  wallMs: number;
  simulatedSecondsPerWallSecond: number;
  jobs: { job: string; sloViolationSeconds: number; taskManagerHours: number; rescales: number; maxLagRecords: number; stepsToConverge: number[] }[];
}

async function main(): Promise<void> {
  const [scenario, policy] = process.argv.slice(2);
  // the one tick setting of the CLI and every bench (SIM_TICK_MS); a variant (bench/simulation.bench.ts
  // POLICY_VARIANTS): "flink-elastic+forecast" is flink-elastic with rule 10 on
  const [base, variant] = policy.split('+');
  const r = await simulate({ scenario, policy: base, seed: 1, ...(variant === 'forecast' ? { forecast: true } : {}) });
  const row: BenchRow = {
    scenario,
    policy,
    seed: r.seed,
    virtualSeconds: r.durationMs / 1000,
    sloViolationSeconds: r.totals.sloViolationSeconds,
    taskManagerHours: r.totals.taskManagerHours,
    rescales: r.totals.rescales,
    failedRescales: r.jobs.reduce((a, j) => a + j.failedRescales, 0),
    stepsToConverge: r.jobs.filter((j) => j.stepsToConverge.length).map((j) => j.stepsToConverge.join('/')).join(' '),
    maxLagRecords: r.totals.maxLagRecords,
    stateTransitions: r.totals.stateTransitions,
    lambdaInvocations: r.totals.lambdaInvocations,
    scalerInvocations: r.totals.scalerInvocations,
    wallMs: r.wall.ms,
    simulatedSecondsPerWallSecond: r.wall.simulatedSecondsPerWallSecond,
    jobs: r.jobs.map((j) => ({ job: j.job, sloViolationSeconds: j.sloViolationSeconds, taskManagerHours: j.taskManagerHours, rescales: j.rescales, maxLagRecords: j.maxLagRecords, stepsToConverge: j.stepsToConverge })),
  };
  process.stdout.write(JSON.stringify(row) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
