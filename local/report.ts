/**
 * The simulator's HTML report: one self-contained file (inline SVG and CSS, a few lines of inline JS for the hover
 * panel) that opens in any browser without a server. Charts per job: input rate vs processing capacity; lag and
 * backlog seconds against the tolerated backlog time; parallelism and TaskManagers; alarm states and decisions over
 * time, with each decision's reason on hover.
 */

export interface SeriesPoint {
  /** Virtual time, ms since the scenario started. */
  t: number;
  inputRate: number;
  /** Records/s the job can process at its current parallelism (0 while restarting). */
  capacity: number;
  lagRecords: number;
  backlogSeconds: number;
  parallelism: number;
  taskManagers: number;
  cpuPercent?: number;
}

export interface DecisionMark {
  t: number;
  action: string;
  reason: string;
  targetParallelism?: number;
  targetTaskManagers?: number;
  trigger?: string;
}

export interface AlarmMark {
  t: number;
  alarmName: string;
  from: string;
  to: string;
}

export interface RescaleMark {
  start: number;
  end?: number;
  from: number;
  to: number;
  outcome: string;
  /** Why it failed (the workflow's error), for a failed rescale. */
  reason?: string;
}

export interface JobRun {
  job: string;
  maxBacklogSeconds: number;
  series: SeriesPoint[];
  decisions: DecisionMark[];
  alarms: AlarmMark[];
  rescales: RescaleMark[];
}

export interface ReportInput {
  title: string;
  scenario: string;
  policy: string;
  seed: number;
  durationMs: number;
  generatedBy: string;
  summary: { label: string; value: string }[];
  jobs: JobRun[];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const W = 960;
const H = 220;
const M = { l: 64, r: 64, t: 16, b: 28 };

interface Line {
  name: string;
  color: string;
  values: [number, number][];
  axis?: 'left' | 'right';
  step?: boolean;
  dash?: string;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}` : `${m}m${String(s % 60).padStart(2, '0')}`;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const f of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (v <= f * p) return f * p;
  return 10 * p;
}

function chart(title: string, durationMs: number, lines: Line[], extra = ''): string {
  const iw = W - M.l - M.r;
  const ih = H - M.t - M.b;
  const maxOf = (axis: 'left' | 'right') => niceMax(Math.max(0, ...lines.filter((l) => (l.axis ?? 'left') === axis).flatMap((l) => l.values.map((v) => v[1]))));
  const ymax = { left: maxOf('left'), right: maxOf('right') };
  const x = (t: number) => M.l + (durationMs > 0 ? (t / durationMs) * iw : 0);
  const y = (v: number, axis: 'left' | 'right') => M.t + ih - (v / ymax[axis]) * ih;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const yy = M.t + (ih * i) / 4;
    parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${yy}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${M.l - 6}" y="${yy + 4}" class="tick" text-anchor="end">${fmt(ymax.left * (1 - i / 4))}</text>`);
    if (lines.some((l) => l.axis === 'right')) parts.push(`<text x="${W - M.r + 6}" y="${yy + 4}" class="tick">${fmt(ymax.right * (1 - i / 4))}</text>`);
  }
  for (let i = 0; i <= 6; i++) {
    const t = (durationMs * i) / 6;
    parts.push(`<text x="${x(t)}" y="${H - 8}" class="tick" text-anchor="middle">${clock(t)}</text>`);
  }
  for (const l of lines) {
    if (l.values.length === 0) continue;
    const axis = l.axis ?? 'left';
    let d = '';
    l.values.forEach(([t, v], i) => {
      const px = x(t).toFixed(1);
      const py = y(v, axis).toFixed(1);
      if (i === 0) d += `M${px},${py}`;
      else if (l.step) d += `H${px}V${py}`;
      else d += `L${px},${py}`;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''} data-series="${esc(l.name)}" data-points="${l.values.length}"/>`);
  }
  const legend = lines.map((l) => `<span><i style="background:${l.color}"></i>${esc(l.name)}${l.axis === 'right' ? ' (right axis)' : ''}</span>`).join('');
  return `<figure class="chart"><figcaption>${esc(title)}<span class="legend">${legend}</span></figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${parts.join('')}${extra}</svg></figure>`;
}

function eventsChart(job: JobRun, durationMs: number): string {
  const iw = W - M.l - M.r;
  const x = (t: number) => M.l + (durationMs > 0 ? (t / durationMs) * iw : 0);
  const names = [...new Set(job.alarms.map((a) => a.alarmName))].sort();
  const rowH = 18;
  const h = M.t + (names.length + 2) * rowH + M.b;
  const parts: string[] = [];
  names.forEach((name, i) => {
    const y0 = M.t + i * rowH;
    parts.push(`<text x="${M.l - 6}" y="${y0 + 12}" class="tick" text-anchor="end">${esc(name.replace(/^.*?-(lag|cpu)-/, '$1-'))}</text>`);
    const marks = job.alarms.filter((a) => a.alarmName === name).sort((a, b) => a.t - b.t);
    marks.forEach((m, j) => {
      const end = j + 1 < marks.length ? marks[j + 1].t : durationMs;
      if (m.to === 'ALARM') {
        parts.push(`<rect x="${x(m.t).toFixed(1)}" y="${y0 + 2}" width="${Math.max(1, x(end) - x(m.t)).toFixed(1)}" height="${rowH - 4}" class="alarm"><title>${esc(`${name}: ALARM from ${clock(m.t)} to ${clock(end)}`)}</title></rect>`);
      }
    });
  });
  const yRes = M.t + names.length * rowH;
  parts.push(`<text x="${M.l - 6}" y="${yRes + 12}" class="tick" text-anchor="end">rescales</text>`);
  for (const r of job.rescales) {
    const end = r.end ?? durationMs;
    parts.push(`<rect x="${x(r.start).toFixed(1)}" y="${yRes + 2}" width="${Math.max(2, x(end) - x(r.start)).toFixed(1)}" height="${rowH - 4}" class="rescale ${r.outcome === 'succeeded' ? '' : 'failed'}"><title>${esc(`rescale ${r.from} → ${r.to}: ${r.outcome}${r.reason ? `: ${r.reason}` : ''} (${clock(r.start)}–${clock(end)})`)}</title></rect>`);
  }
  const yDec = yRes + rowH;
  parts.push(`<text x="${M.l - 6}" y="${yDec + 12}" class="tick" text-anchor="end">decisions</text>`);
  job.decisions.forEach((d) => {
    const cls = d.action === 'none' ? 'none' : /\bdown\b|-in-/.test(d.action) || (d.targetParallelism ?? 0) < 0 ? 'down' : 'up';
    const text = `${clock(d.t)} ${d.action}${d.targetParallelism !== undefined ? ` → p=${d.targetParallelism}` : ''}${d.targetTaskManagers !== undefined ? `, ${d.targetTaskManagers} TMs` : ''}: ${d.reason}`;
    parts.push(`<circle cx="${x(d.t).toFixed(1)}" cy="${yDec + 9}" r="5" class="decision ${cls}" data-reason="${esc(text)}"><title>${esc(text)}</title></circle>`);
  });
  return `<figure class="chart"><figcaption>Alarms, rescales and decisions (hover for the reason)</figcaption><svg viewBox="0 0 ${W} ${h}" role="img" aria-label="alarms and decisions">${parts.join('')}</svg></figure>`;
}

export function renderReport(r: ReportInput): string {
  const jobs = r.jobs
    .map((j) => {
      const pts = (f: (p: SeriesPoint) => number | undefined) => j.series.filter((p) => f(p) !== undefined).map((p) => [p.t, f(p)!] as [number, number]);
      const decisions = j.decisions
        .filter((d) => d.action !== 'none')
        .map((d) => `<tr><td>${clock(d.t)}</td><td>${esc(d.action)}</td><td>${d.targetParallelism ?? ''}</td><td>${d.targetTaskManagers ?? ''}</td><td>${esc(d.trigger ?? '')}</td><td>${esc(d.reason)}</td></tr>`)
        .join('');
      const failed = j.rescales.filter((x) => x.reason !== undefined || x.outcome.startsWith('failed') || x.outcome === 'rejected');
      const failedTable = failed.length
        ? `<div class="failures" role="alert"><b>${failed.length} rescale(s) FAILED</b><table><thead><tr><th>time</th><th>rescale</th><th>outcome</th><th>reason</th></tr></thead><tbody>${failed
            .map((x) => `<tr class="failed-rescale"><td>${clock(x.start)}</td><td>${x.from} → ${x.to}</td><td>${esc(x.outcome)}</td><td>${esc(x.reason ?? '')}</td></tr>`)
            .join('')}</tbody></table></div>`
        : '';
      return `<section class="job" data-job="${esc(j.job)}"><h2>${esc(j.job)}</h2>
${failedTable}
${chart('Input rate vs processing capacity (records/s)', r.durationMs, [
  { name: 'input rate', color: '#2563eb', values: pts((p) => p.inputRate) },
  { name: 'capacity', color: '#16a34a', values: pts((p) => p.capacity), step: true },
])}
${chart('Lag (records) and backlog (seconds)', r.durationMs, [
  { name: 'lag (records)', color: '#dc2626', values: pts((p) => p.lagRecords) },
  { name: 'backlog seconds', color: '#9333ea', values: pts((p) => p.backlogSeconds), axis: 'right' },
  { name: `tolerated backlog (${j.maxBacklogSeconds} s)`, color: '#9333ea', values: [[0, j.maxBacklogSeconds], [r.durationMs, j.maxBacklogSeconds]], axis: 'right', dash: '4 4' },
])}
${chart('Parallelism and TaskManagers', r.durationMs, [
  { name: 'parallelism', color: '#ea580c', values: pts((p) => p.parallelism), step: true },
  { name: 'TaskManagers', color: '#0891b2', values: pts((p) => p.taskManagers), step: true },
  ...(j.series.some((p) => p.cpuPercent !== undefined) ? [{ name: 'CPU %', color: '#64748b', values: pts((p) => p.cpuPercent), axis: 'right' as const }] : []),
])}
${eventsChart(j, r.durationMs)}
<details><summary>${j.decisions.filter((d) => d.action !== 'none').length} decisions that acted (of ${j.decisions.length})</summary>
<table><thead><tr><th>time</th><th>action</th><th>parallelism</th><th>TMs</th><th>trigger</th><th>reason</th></tr></thead><tbody>${decisions}</tbody></table></details>
</section>`;
    })
    .join('\n');
  const summary = r.summary.map((s) => `<tr><th>${esc(s.label)}</th><td>${esc(s.value)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#0f172a;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #e2e8f0}
.meta{color:#475569;margin-bottom:12px}table{border-collapse:collapse;margin:8px 0}th,td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}
.chart{margin:8px 0}.chart figcaption{font-weight:600;font-size:13px}.legend span{font-weight:400;margin-left:12px;color:#334155}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
svg{width:100%;height:auto}.grid{stroke:#e2e8f0}.tick{font-size:11px;fill:#64748b}
.failures{border:2px solid #dc2626;background:#fef2f2;padding:6px 10px;border-radius:6px;margin:8px 0}.alarm{fill:#fca5a5}.rescale{fill:#fdba74}.rescale.failed{fill:#ef4444}
.decision{stroke:#0f172a;stroke-width:.5;cursor:help}.decision.up{fill:#ea580c}.decision.down{fill:#0891b2}.decision.none{fill:#cbd5e1}
#hover{position:fixed;bottom:12px;left:50%;transform:translateX(-50%);max-width:900px;background:#0f172a;color:#fff;padding:6px 10px;border-radius:6px;display:none;font-size:13px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<div class="meta">scenario <b>${esc(r.scenario)}</b> · policy <b>${esc(r.policy)}</b> · seed ${r.seed} · ${clock(r.durationMs)} of virtual time · ${esc(r.generatedBy)}</div>
<table class="summary">${summary}</table>
${jobs}
<div id="hover"></div>
<script>
// Show a decision's reason in a panel on hover (the SVG <title> tooltip works too, this is easier to read).
document.querySelectorAll('circle.decision').forEach(function (c) {
  var box = document.getElementById('hover');
  c.addEventListener('mouseenter', function () { box.textContent = c.getAttribute('data-reason'); box.style.display = 'block'; });
  c.addEventListener('mouseleave', function () { box.style.display = 'none'; });
});
document.body.setAttribute('data-rendered', String(document.querySelectorAll('path[data-points]').length));
</script>
</body></html>
`;
}
