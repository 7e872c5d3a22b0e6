/**
 * How the policy's defaults were chosen (issue 19: "defaults chosen by measurement, not copied"): every shipped
 * scenario through the whole simulated loop (the same simulate() as `npm run bench simulation` and `flink-elastic
 * simulate`, at their one tick setting SIM_TICK_MS, 5 s) with the flink-elastic policy, once per candidate setting, each beside the oracle floor at the target utilization.
 *
 * Candidates (BENCH_DEFAULTS_SEEDS, default "1", comma-separated seeds of the scenario noise):
 *   - scaleDownDelaySeconds 180 / 300 (the default) / 600 (the default before),
 *   - utilizationMin 0.55 with the 300 s delay (an asymmetric band 55-100 %).
 * Printed: SLO-violation seconds, TaskManager-hours ÷ the oracle's, rescales, and per candidate the worst TM ratio and
 * total rescales, so the trade (capacity held vs rescales made) is read off one table.
 */
import { simulate } from '../local/simulator';
import { scenarioConfigDoc } from '../local/simulator/config';
import { oracleFloor } from '../local/oracle';
import { BENCH_SCENARIO_NAMES as SCENARIO_NAMES, START_UTILIZATION, scenarios } from '../local/scenarios';

interface Candidate {
  name: string;
  job?: Record<string, unknown>;
  policy?: Record<string, unknown>;
}

export const CANDIDATES: Candidate[] = [
  { name: 'delay 180 s', job: { scaleDownDelaySeconds: 180 } },
  { name: 'delay 300 s (default)', job: { scaleDownDelaySeconds: 300 } },
  { name: 'delay 600 s (old default)', job: { scaleDownDelaySeconds: 600 } },
  { name: 'delay 300 s, utilizationMin 0.55', job: { scaleDownDelaySeconds: 300 }, policy: { utilizationMin: 0.55 } },
];

export async function run(): Promise<void> {
  const seeds = (process.env.BENCH_DEFAULTS_SEEDS ?? '1').split(',').map(Number);
  const rows: string[] = ['| candidate | seed | scenario | SLO s | TM-h | TM-h ÷ oracle | rescales |', '|---|--:|---|--:|--:|--:|--:|'];
  const summary: string[] = ['| candidate | worst TM-h ÷ oracle | scenarios over 1.1 | SLO s, all | rescales, all |', '|---|--:|--:|--:|--:|'];
  const started = performance.now();
  for (const c of CANDIDATES) {
    let worst = 0;
    let over = 0;
    let slo = 0;
    let rescales = 0;
    for (const seed of seeds) {
      for (const name of SCENARIO_NAMES) {
        const sc = scenarios(seed)[name];
        const doc = scenarioConfigDoc(sc.jobs, Object.fromEntries(sc.jobs.map((j) => [j.name, 'http://127.0.0.1:1']))) as { jobs: Record<string, unknown>[] };
        for (const j of doc.jobs) Object.assign(j, c.job ?? {}, c.policy ? { policy: { ...((j.policy as object) ?? {}), ...c.policy } } : {});
        const r = await simulate({ scenario: name, config: doc, seed });
        const oracle = oracleFloor(sc.jobs, sc.durationMs, START_UTILIZATION).taskManagerHours;
        const ratio = r.totals.taskManagerHours / oracle;
        worst = Math.max(worst, ratio);
        if (ratio > 1.1) over++;
        slo += r.totals.sloViolationSeconds;
        rescales += r.totals.rescales;
        rows.push(`| ${c.name} | ${seed} | ${name} | ${r.totals.sloViolationSeconds} | ${r.totals.taskManagerHours.toFixed(2)} | ${ratio.toFixed(2)} | ${r.totals.rescales} |`);
      }
    }
    summary.push(`| ${c.name} | ${worst.toFixed(2)} | ${over} of ${SCENARIO_NAMES.length * seeds.length} | ${slo.toLocaleString('en-US')} | ${rescales} |`);
  }
  process.stdout.write(`${rows.join('\n')}\n\n${summary.join('\n')}\n(goal: TM-h ÷ oracle ≤ 1.1 at the target utilization ${START_UTILIZATION}; ${((performance.now() - started) / 1000).toFixed(0)} s wall)\n`);
}

if (require.main === module) void run();
