import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import type { CliIo } from './support/io';
import type { JobConfig } from '../../functions/core/config';
import { addWhereOptions, awsOf, type WhereOptions } from './support/context';
import { historyRow, table, type HistoryRow } from './history';
import { CommandFailed } from './support/exit';
import { jsonText } from './support/json';
import { jobName } from './support/options';
import { errorOf, iso, resolveWhere, type Where } from './support/where';

/** One job as `status --json` prints it (documented in docs/cli.md). Sections that could not be read are {error}. */
export interface JobStatus {
  job: string;
  mode: string;
  enabled: boolean;
  dryRun: boolean;
  flink:
    | {
        url: string;
        jobId?: string;
        state: string;
        parallelism?: number;
        maxParallelism?: number;
        vertices: { name: string; parallelism: number; maxParallelism: number }[];
        slotsTotal: number;
        slotsAvailable: number;
        /** slots / freeSlots are absent when Flink reported no valid slot counts for that TaskManager. */
        taskManagers: { id: string; host: string; slots?: number; freeSlots?: number }[];
      }
    | { error: string };
  capacity:
    | {
        kind: string;
        name: string;
        desired: number;
        min: number;
        max: number | null;
        members: { id: string; state: string; taskManagerId?: string; idle?: boolean; busySlots?: number; protected?: boolean }[];
        idle: string[];
        notes: string[];
      }
    | { error: string };
  lock: { owner: string; acquiredAt: string; expiresAt: string; reason?: string; progress: Record<string, unknown>; execution?: { status: string } | { error: string } } | null | { error: string };
  lastRescaleAt: string | null;
  lastDecisions: HistoryRow[];
  lastRescale: HistoryRow | null;
}

async function jobStatus(w: Where, job: JobConfig, o: WhereOptions): Promise<JobStatus> {
  const out: JobStatus = { job: job.name, mode: job.mode, enabled: job.enabled, dryRun: job.dryRun, flink: { error: 'not read' }, capacity: { error: 'not read' }, lock: null, lastRescaleAt: null, lastDecisions: [], lastRescale: null };
  try {
    const flink = await w.flink(job);
    const [overview, tms] = await Promise.all([flink.overview(), flink.taskManagers()]);
    const found = await flink.findJobByName(job.flink.jobName ?? job.name);
    const details = found ? await flink.job(found.id) : undefined;
    out.flink = {
      url: flink.baseUrl,
      ...(details ? { jobId: details.id } : {}),
      state: details?.state ?? 'NOT FOUND',
      ...(details ? { parallelism: details.vertices.reduce((m, v) => Math.max(m, v.parallelism), 0), maxParallelism: details.maxParallelism } : {}),
      vertices: (details?.vertices ?? []).map((v) => ({ name: v.name, parallelism: v.parallelism, maxParallelism: v.maxParallelism })),
      slotsTotal: overview.slotsTotal,
      slotsAvailable: overview.slotsAvailable,
      taskManagers: tms.map((t) => ({ id: t.id, host: t.host, slots: t.slotsNumber, freeSlots: t.freeSlots })),
    };
    try {
      const d = await (await w.target(job, flink)).describe(tms);
      out.capacity = {
        kind: d.kind,
        name: d.name,
        desired: d.desired,
        min: d.min,
        max: Number.isFinite(d.max) ? d.max : null,
        members: d.members.map((m) => ({ id: m.id, state: m.state, taskManagerId: m.taskManagerId, idle: m.idle, busySlots: m.busySlots, protected: m.protected })),
        idle: d.members.filter((m) => m.idle).map((m) => m.id),
        notes: d.notes,
      };
    } catch (e) {
      out.capacity = errorOf(e);
    }
  } catch (e) {
    out.flink = errorOf(e);
    out.capacity = { error: 'needs the Flink view to map members to TaskManagers' };
  }
  try {
    const [lock, last, decisions, rescales] = await Promise.all([
      w.store.getLock(job.name),
      w.store.getLastRescaleAt(job.name),
      w.store.history(job.name, 'decision', { limit: 3 }),
      w.store.history(job.name, 'rescale', { limit: 1 }),
    ]);
    out.lastRescaleAt = iso(last);
    out.lastDecisions = decisions.map(historyRow);
    out.lastRescale = rescales[0] ? historyRow(rescales[0]) : null;
    if (lock) {
      const l: NonNullable<JobStatus['lock']> & { owner: string } = {
        owner: lock.owner,
        acquiredAt: iso(lock.acquiredAt)!,
        expiresAt: iso(lock.expiresAtMs)!,
        ...(lock.reason ? { reason: lock.reason } : {}),
        progress: lock.progress,
      };
      if (!o.local && lock.owner.startsWith('arn:aws')) {
        try {
          const d = await w.services.sfn(awsOf(o)).send(new DescribeExecutionCommand({ executionArn: lock.owner }));
          l.execution = { status: d.status ?? 'UNKNOWN' };
        } catch (e) {
          l.execution = errorOf(e);
        }
      }
      out.lock = l;
    }
  } catch (e) {
    out.lock = errorOf(e);
  }
  return out;
}

function human(s: JobStatus): string {
  const lines: string[] = [`job ${s.job} (${s.mode}${s.enabled ? '' : ', disabled'}${s.dryRun ? ', dry-run' : ''})`];
  const f = s.flink;
  if ('error' in f) lines.push(`  Flink: unreachable: ${f.error}`);
  else {
    lines.push(`  Flink ${f.url}: job ${f.state}${f.jobId ? ` ${f.jobId}` : ''}, parallelism ${f.parallelism ?? '-'}, maxParallelism ${f.maxParallelism ?? '-'}`);
    lines.push(`    slots ${f.slotsTotal - f.slotsAvailable} used / ${f.slotsTotal} total (${f.slotsAvailable} free), ${f.taskManagers.length} TaskManager(s)`);
    if (f.vertices.length) lines.push(table(['    vertex', 'parallelism', 'maxParallelism'], f.vertices.map((v) => [`    ${v.name}`, String(v.parallelism), String(v.maxParallelism)])));
  }
  const c = s.capacity;
  if ('error' in c) lines.push(`  capacity: ${c.error}`);
  else {
    lines.push(`  capacity ${c.kind} ${c.name}: desired ${c.desired} (limits ${c.min}..${c.max ?? '∞'}), ${c.members.length} member(s), ${c.idle.length} idle`);
    if (c.members.length) {
      lines.push(
        table(
          ['    member', 'state', 'TaskManager', 'slots in use', 'idle'],
          c.members.map((m) => [`    ${m.id}`, m.state, m.taskManagerId ?? '(unmapped)', m.busySlots === undefined ? '-' : String(m.busySlots), m.idle === undefined ? '-' : m.idle ? 'yes' : 'no']),
        ),
      );
    }
    for (const n of c.notes) lines.push(`    note: ${n}`);
  }
  const l = s.lock;
  if (l && 'error' in l) lines.push(`  lock: cannot read the state: ${l.error}`);
  else if (l) lines.push(`  lock: held by ${l.owner} since ${l.acquiredAt}${l.reason ? ` (${l.reason})` : ''}${l.execution ? `; execution ${'status' in l.execution ? l.execution.status : l.execution.error}` : ''}`);
  else lines.push('  lock: free (no rescale running)');
  lines.push(`  last rescale: ${s.lastRescale ? `${s.lastRescale.at} ${s.lastRescale.outcome ?? ''} ${s.lastRescale.change ?? ''}`.trim() : 'none recorded'}`);
  if (s.lastDecisions.length) {
    lines.push('  last decisions:');
    for (const d of s.lastDecisions) lines.push(`    ${d.at} ${d.outcome ?? ''} ${d.change ?? ''}${d.reason ? ` (${d.reason})` : ''}`.replace(/ +/g, ' '));
  } else lines.push('  last decisions: none recorded');
  return lines.join('\n');
}

export function registerStatus(program: Command, io: CliIo): void {
  const cmd = program
    .command('status')
    .description("Each job: Flink's view (state, parallelism per vertex, maxParallelism, slots, TaskManagers) beside the capacity target's (desired, members, idle ones), the last decisions, and the current lock/execution")
    .option('--job <name>', 'only this job (default: every job in the config)', jobName)
    .option('--json', 'print {where, jobs: [...]} as JSON');
  addWhereOptions(cmd).addHelpText(
    'after',
    `
Parts that cannot be read (a JobManager not reachable from here, missing permissions) show their error; the rest is
still printed, and the exit code is 1 (0 when every part was read). Deployed mode reads Flink at the configured URL (credentials from Secrets Manager) and the capacity
target with your AWS credentials; --local reads --flink-url and the local state file.

Example:
  $ flink-elastic status
  $ flink-elastic status --job orders --json
  $ flink-elastic status --local --flink-url http://127.0.0.1:8081`,
  );
  cmd.action(async (o: WhereOptions & { job?: string }, c: Command) => {
    const w = await resolveWhere(program, c, io, o);
    const jobs = await Promise.all(w.jobs.map((j) => jobStatus(w, j, o)));
    if (o.json) io.out(jsonText({ where: o.local ? 'local' : 'deployed', ...(w.stackName ? { stackName: w.stackName } : {}), jobs }));
    else io.out(jobs.map(human).join('\n\n'));
    // Everything readable was printed; a part that could not be read fails the command (exit 1), named on stderr.
    const unread = jobs.flatMap((j) =>
      [['Flink', j.flink], ['capacity', j.capacity], ['state', j.lock]].flatMap(([part, v]) =>
        v && typeof v === 'object' && 'error' in v && !('error' in j.flink && part === 'capacity') ? [`job ${j.job}: ${part as string}: ${(v as { error: string }).error}`] : [],
      ),
    );
    if (unread.length) throw new CommandFailed(1, `could not read ${unread.length} part(s):\n  ${unread.join('\n  ')}`);
  });
}
