import { Option, type Command } from 'commander';
import type { CliIo } from './support/io';
import type { HistoryEntry } from '../../functions/adapters/state/types';
import { addWhereOptions, type WhereOptions } from './support/context';
import { jsonText } from './support/json';
import { intIn, jobName, oneOf } from './support/options';
import { iso, resolveWhere } from './support/where';

/** One history entry as `history --json` prints it (documented in docs/cli.md). */
export interface HistoryRow {
  kind: 'decision' | 'rescale';
  at: string;
  id: string;
  outcome?: string;
  reason?: string;
  startedBy?: string;
  /** e.g. "parallelism 2 -> 4, TaskManagers 1 -> 2". */
  change?: string;
  durationMs?: number;
  phases?: Record<string, number>;
  error?: string;
  detail: Record<string, unknown>;
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/** Outcomes after which the job runs at the planned parallelism (`after` is the new state). */
const RESCALED = new Set(['succeeded', 'succeeded-drain-timeout', 'rescaled-cleanup-failed']);

function changeOf(d: Record<string, any>): string | undefined {
  const before = d.before ?? { parallelism: d.fromParallelism, taskManagers: d.fromTaskManagers };
  const after = d.after ?? { parallelism: d.toParallelism, taskManagers: d.toTaskManagers };
  const arrow = (from: Record<string, unknown> | undefined, to: Record<string, unknown> | undefined) => {
    const parts: string[] = [];
    if (num(from?.parallelism) !== undefined && num(to?.parallelism) !== undefined) parts.push(`parallelism ${from!.parallelism} -> ${to!.parallelism}`);
    if (num(from?.taskManagers) !== undefined && num(to?.taskManagers) !== undefined) parts.push(`TaskManagers ${from!.taskManagers} -> ${to!.taskManagers}`);
    return parts.join(', ');
  };
  // A workflow record that did not rescale (dry run, failure, rejected …): `after` is where the job stayed, so the
  // change worth showing is what Validate planned (`planned`; records written before it existed lack it).
  const workflowRecord = d.before !== undefined && typeof d.outcome === 'string';
  if (workflowRecord && !RESCALED.has(d.outcome)) {
    if (d.planned) {
      const planned = arrow(before, d.planned);
      const stayed = num(d.after?.parallelism);
      const kept = stayed !== undefined && stayed !== before.parallelism ? `; job now at parallelism ${stayed}` : '';
      return planned ? `planned ${planned}${kept}` : undefined;
    }
    // Older records kept no plan: say what is known rather than a misleading "2 -> 2".
    return num(before.parallelism) !== undefined ? `parallelism ${before.parallelism} unchanged (plan not recorded)` : undefined;
  }
  return arrow(before, after) || undefined;
}

export function historyRow(h: HistoryEntry): HistoryRow {
  const d = h.detail as Record<string, any>;
  const change = changeOf(d);
  const durationMs = num(d.phases?.totalMs) ?? (num(d.finishedAt) !== undefined ? d.finishedAt - h.at : undefined);
  return {
    kind: h.kind,
    at: iso(h.at)!,
    id: h.id,
    ...(typeof d.outcome === 'string' ? { outcome: d.outcome } : {}),
    ...(typeof d.reason === 'string' ? { reason: d.reason } : {}),
    ...(typeof d.startedBy === 'string' ? { startedBy: d.startedBy } : {}),
    ...(change ? { change } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(d.phases ? { phases: d.phases } : {}),
    ...(typeof d.error === 'string' ? { error: d.error } : {}),
    detail: d,
  };
}

const secs = (ms?: number) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`);

export function registerHistory(program: Command, io: CliIo): void {
  const cmd = program
    .command('history')
    .description('The recorded decisions and rescales of a job, newest first, with durations (from the state table)')
    .requiredOption('--job <name>', 'job name from the config', jobName)
    .option('--limit <n>', 'at most this many entries, 1 to 1000', intIn('--limit', 1, 1000), 20)
    .addOption(new Option('--kind <kind>', 'which entries').choices(['all', 'decision', 'rescale']).default('all').argParser(oneOf('--kind', ['all', 'decision', 'rescale'])))
    .option('--json', 'print {job, entries: [...]} as JSON');
  addWhereOptions(cmd).addHelpText(
    'after',
    `
Example:
  $ flink-elastic history --job orders --limit 5
  $ flink-elastic history --job orders --kind rescale --json
  $ flink-elastic history --job orders --local --flink-url http://127.0.0.1:8081`,
  );
  cmd.action(async (o: WhereOptions & { job: string; limit: number; kind: 'all' | 'decision' | 'rescale' }, c: Command) => {
    const w = await resolveWhere(program, c, io, o);
    const kinds = o.kind === 'all' ? (['decision', 'rescale'] as const) : ([o.kind] as const);
    const lists = await Promise.all(kinds.map((k) => w.store.history(o.job, k, { limit: o.limit })));
    const entries = lists.flat().sort((a, b) => b.at - a.at).slice(0, o.limit).map(historyRow);
    if (o.json) {
      io.out(jsonText({ job: o.job, where: o.local ? 'local' : 'deployed', entries }));
      return;
    }
    if (!entries.length) {
      io.out(`no ${o.kind === 'all' ? 'decisions or rescales' : `${o.kind}s`} recorded for job "${o.job}"`);
      return;
    }
    const rows = entries.map((e) => [e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), e.kind, e.outcome ?? '', e.change ?? '', secs(e.durationMs), e.startedBy ?? '', e.error ?? e.reason ?? '']);
    io.out(table(['time', 'kind', 'outcome', 'change', 'took', 'by', 'reason / error'], rows));
  });
}

export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
