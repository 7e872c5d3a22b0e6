/** Renders a decision for people: what, why, what limited it, what was missing, and the arithmetic. */
import type { Decision } from './types';

export function explainDecision(d: Decision, jobName?: string): string {
  const lines: string[] = [];
  const what =
    d.action === 'none'
      ? `no change (parallelism ${d.currentParallelism}, ${d.currentTaskManagers} TaskManagers)`
      : d.action === 'rescale'
        ? `rescale ${d.direction} ${d.currentParallelism} → ${d.targetParallelism} (TaskManagers ${d.currentTaskManagers} → ${d.targetTaskManagers})`
        : `${d.action} ${d.currentTaskManagers} → ${d.targetTaskManagers} TaskManagers (parallelism ${d.currentParallelism} → ${d.targetParallelism})`;
  lines.push(`${jobName ? `${jobName}: ` : ''}${what}   [policy ${d.policy}, rule ${d.rule}]`);
  lines.push(`why: ${d.reason}`);
  if (d.wantedParallelism !== d.targetParallelism) lines.push(`wanted: parallelism ${d.wantedParallelism}`);
  if (d.perVertex) lines.push(`per vertex: ${Object.entries(d.perVertex).map(([id, p]) => `${id}=${p}`).join(', ')}`);
  lines.push(`limited by: ${d.limitedBy.length ? d.limitedBy.join(', ') : 'nothing'}`);
  if (d.missing.length) lines.push(`missing: ${d.missing.join('; ')}`);
  if (d.steps.length) {
    lines.push('arithmetic:');
    d.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${s}`));
  }
  return lines.join('\n');
}
