/** One line per event of the real-time local driver, for a person watching the terminal. */
import type { LoopEvent, LoopResult } from './loop';
import { describeTarget } from '../../functions/core/rescale/input';

const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const n0 = (v: number | undefined) => (v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));

export function formatLoopEvent(e: LoopEvent, opts: { verboseSteps?: boolean } = {}): string | undefined {
  const at = `[${hms(e.at)}]`;
  switch (e.type) {
    case 'collected': {
      const m = e.metrics;
      const job = m.running === 1 ? `in ${n0(m.inputRate)} rec/s · lag ${n0(m.pendingRecords)} · busy ${m.busyMax === undefined ? '-' : `${Math.round(m.busyMax / 10)}%`} · p ${n0(m.parallelism)}` : `job not running${e.missing.length ? ` (${e.missing.join('; ')})` : ''}`;
      return `${at} ${e.job}: ${job} · TMs ${n0(m.taskManagers)} · slots ${n0(m.slotsAvailable)} free of ${n0(m.slotsTotal)}${m.jvmCpu !== undefined ? ` · CPU ${Math.round(m.jvmCpu)}%` : ''}`;
    }
    case 'collect-failed':
      return `${at} ${e.job}: collector could not read Flink: ${e.error}`;
    case 'alarm':
      return `${at} ${e.job}: alarm ${e.alarm} ${e.from} → ${e.to} (${e.reason})`;
    case 'decision': {
      const r = e.result;
      const d = r.decision;
      const what = d && d.action !== 'none' ? `${d.action}${d.direction ? ` ${d.direction}` : ''} p ${d.currentParallelism} → ${d.targetParallelism}, TMs ${d.currentTaskManagers} → ${d.targetTaskManagers}` : 'no change';
      return `${at} ${e.job}: decision (${e.trigger}): ${r.outcome}: ${what} — ${r.reason}`;
    }
    case 'execution-started':
      return `${at} ${e.job}: rescale workflow ${e.name} started: ${JSON.stringify(e.input)}`;
    case 'execution-step':
      if (e.event.type === 'entered' && (opts.verboseSteps || !['Pass', 'Choice', 'Wait'].includes(e.event.stateType))) return `${at} ${e.job}:   ▸ ${e.event.state}`;
      if (e.event.type === 'failed') return `${at} ${e.job}:   ✗ ${e.event.state}: ${e.event.error}: ${e.event.cause}`;
      return undefined;
    case 'execution-ended':
      return `${at} ${e.job}: rescale workflow ${e.name} ${e.status}${e.outcome ? ` (${e.outcome})` : ''}${e.error ? `: ${e.error}${e.cause ? `: ${e.cause}` : ''}` : ''}`;
    case 'notification':
      return `${at} notification: ${e.subject}\n${e.message.split('\n').map((l) => `    ${l}`).join('\n')}`;
    case 'stopping':
      return `${at} stopping: waiting for ${e.waitingFor.join(', ')} to finish (a rescale is never left half-done)`;
  }
}

export function formatLoopSummary(r: LoopResult): string {
  const secs = Math.round((r.endedAt - r.startedAt) / 1000);
  const ex = r.executions.map((e) => `  ${e.name}: ${e.status}${e.outcome ? ` (${e.outcome})` : ''}, ${describeTarget(e.input)}, ${Math.round(((e.end ?? r.endedAt) - e.start) / 1000)} s${e.cause ? ` — ${e.cause}` : ''}`);
  return [
    `Ran ${secs} s: ${r.collections} collection(s), ${r.alarms.length} alarm change(s), ${r.decisions.length} decision(s), ${r.executions.length} rescale workflow(s), ${r.notifications.length} notification(s)`,
    ...ex,
  ].join('\n');
}
