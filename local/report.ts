/**
 * The simulator's HTML report: one self-contained file (inline SVG and CSS, a few lines of inline JS for the hover
 * panel) that opens in any browser without a server. Charts per job: input rate vs processing capacity; lag and
 * backlog seconds against the tolerated backlog time; parallelism and TaskManagers; alarm states and decisions over
 * time, with each decision's reason on hover.
 *
 * Readable by construction: axis ticks on 1-2-5 steps with units, time ticks on clock steps, a legend swatch per
 * series drawn like its line (dashed when the line is), colours that mean what they say (red: SLO at risk or a
 * failed rescale; amber: warning or in progress; green: a rescale that succeeded; blue: neutral, such as a low
 * alarm in ALARM, which means "scale-in possible"), failed rescales marked on every chart with their reason, and
 * decisions bucketed when they would overlap (a bucket shows its count; hover shows the latest reasons).
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
const M = { l: 84, r: 72, t: 16, b: 28 };
const IW = W - M.l - M.r;

/** Colours, by meaning. */
export const COLORS = {
  bad: '#dc2626',
  warn: '#d97706',
  good: '#16a34a',
  neutral: '#2563eb',
  muted: '#94a3b8',
} as const;

interface Line {
  name: string;
  color: string;
  values: [number, number][];
  axis?: 'left' | 'right';
  step?: boolean;
  dash?: string;
  width?: number;
}

interface Axis {
  unit: string;
  /** Ticks on whole numbers only (counts). */
  integer?: boolean;
  /** The axis' top whatever the data (CPU: 100 %); values above it are drawn at the top. */
  max?: number;
}

/** The number with at most 12 significant digits: 0.30000000000000004 → 0.3. */
const clean = (n: number) => Number(n.toPrecision(12));

/** The smallest 1-2-5 step (1, 2, 5 × 10^k) that covers max in at most maxIntervals intervals. */
export function niceStep(max: number, maxIntervals = 6, integer = false): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  let p = Math.pow(10, Math.floor(Math.log10(max / maxIntervals)) - 1);
  for (;;) {
    for (const f of [1, 2, 5]) {
      const step = clean(f * p);
      if (integer && step < 1) continue;
      if (Math.ceil(clean(max / step)) <= maxIntervals) return step;
    }
    p *= 10;
  }
}

/** Axis ticks from 0 to the first multiple of a 1-2-5 step at or above max. */
export function niceTicks(max: number, opts: { maxIntervals?: number; integer?: boolean } = {}): number[] {
  const step = niceStep(max, opts.maxIntervals, opts.integer);
  const n = Math.max(1, Math.ceil(clean(max / step)));
  return Array.from({ length: n + 1 }, (_, i) => clean(i * step));
}

/** A tick label: 1.2k, 800k, 1.5M, 0.2, with the unit ("12k rec/s", "150 s", "100 %"). */
export function formatTick(v: number, unit = ''): string {
  const a = Math.abs(v);
  const [scale, suffix] = a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : a >= 1e3 ? [1e3, 'k'] : [1, ''];
  const num = `${clean(v / scale)}${suffix}`;
  return unit ? `${num} ${unit}` : num;
}

const SEC = 1000;
const MINUTE = 60 * SEC;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Time steps people read on a clock. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30].map((s) => s * SEC).concat([1, 2, 5, 10, 15, 30].map((m) => m * MINUTE), [1, 2, 3, 6, 12].map((h) => h * HOUR), [1, 2, 5, 10, 20, 50].map((d) => d * DAY));

/** Time ticks from 0 on clock steps (at most maxIntervals intervals), within the duration. */
export function timeTicks(durationMs: number, maxIntervals = 8): number[] {
  if (!(durationMs > 0)) return [0];
  const step = TIME_STEPS.find((s) => durationMs / s <= maxIntervals) ?? Math.ceil(durationMs / maxIntervals / DAY) * DAY;
  const out: number[] = [];
  for (let t = 0; t <= durationMs + 1e-6; t += step) out.push(t);
  return out;
}

/** A time tick label: "0:45", "24:00" (h:mm); "1d 06:00" for runs of 2 days or more; "2:30" (m:ss) for runs under 10 min. */
export function timeLabel(ms: number, durationMs: number): string {
  const s = Math.round(ms / SEC);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const p2 = (n: number) => String(n).padStart(2, '0');
  if (durationMs < 10 * MINUTE) return `${Math.floor(s / 60)}:${p2(s % 60)}`;
  if (durationMs >= 2 * DAY) return d > 0 ? `${d}d ${p2(h)}:${p2(m)}` : `${p2(h)}:${p2(m)}`;
  return `${Math.floor(s / 3600)}:${p2(m)}`;
}

/** The time axis' unit, for its caption. */
const timeUnit = (durationMs: number) => (durationMs < 10 * MINUTE ? 'm:ss' : durationMs >= 2 * DAY ? 'day hh:mm' : 'h:mm');

/** hh:mm:ss, as the terminal summary prints times. */
function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const xOf = (durationMs: number) => (t: number) => M.l + (durationMs > 0 ? (Math.min(Math.max(t, 0), durationMs) / durationMs) * IW : 0);

/** A legend entry whose swatch is drawn like the series' line (or area), dashed when the line is. */
function swatch(name: string, color: string, kind: { dash?: string; area?: boolean; marker?: string; width?: number } = {}): string {
  const shape = kind.marker
    ? kind.marker
    : kind.area
      ? `<rect x="1" y="1" width="22" height="10" rx="2" fill="${color}"/>`
      : `<line x1="1" x2="23" y1="6" y2="6" stroke="${color}" stroke-width="${kind.width ?? 2.5}"${kind.dash ? ` stroke-dasharray="${kind.dash}"` : ''}/>`;
  return `<span class="legend-item" data-legend="${esc(name)}" data-color="${color}" data-dash="${kind.dash ?? ''}"><svg class="swatch" width="24" height="12" viewBox="0 0 24 12" aria-hidden="true">${shape}</svg>${esc(name)}</span>`;
}

function timeAxis(durationMs: number, yTop: number, yBottom: number): string {
  const x = xOf(durationMs);
  return timeTicks(durationMs)
    .map((t) => `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${yTop}" y2="${yBottom}" class="grid"/><text x="${x(t).toFixed(1)}" y="${yBottom + 14}" class="tick xtick" text-anchor="middle">${timeLabel(t, durationMs)}</text>`)
    .join('');
}

/** Failed rescales on a time chart: a red dashed line from start to the top, a ✕ on top, the reason on hover. */
function failureMarks(failed: RescaleMark[], durationMs: number, yTop: number, yBottom: number): string {
  const x = xOf(durationMs);
  return failed
    .map((r) => {
      const px = x(r.start).toFixed(1);
      const text = failureText(r);
      return `<g class="failure-mark" data-reason="${esc(text)}"><title>${esc(text)}</title><line x1="${px}" x2="${px}" y1="${yTop}" y2="${yBottom}" stroke="${COLORS.bad}" stroke-width="1.5" stroke-dasharray="3 3"/><path d="M${Number(px) - 4},${yTop - 4}l8,8m0,-8l-8,8" stroke="${COLORS.bad}" stroke-width="2.2"/><text x="${Number(px) + 7}" y="${yTop + 4}" class="failure-label" text-anchor="${Number(px) > W - M.r - 150 ? 'end' : 'start'}" dx="${Number(px) > W - M.r - 150 ? -14 : 0}">rescale ${r.from} → ${r.to} failed</text><line x1="${px}" x2="${px}" y1="${yTop}" y2="${yBottom}" stroke="transparent" stroke-width="10"/></g>`;
    })
    .join('');
}

const failureText = (r: RescaleMark) => `FAILED rescale ${r.from} → ${r.to} at ${clock(r.start)}: ${r.outcome}${r.reason ? `: ${r.reason}` : ''}`;

function chart(title: string, durationMs: number, axes: { left: Axis; right?: Axis }, lines: Line[], failed: RescaleMark[]): string {
  const ih = H - M.t - M.b;
  // a loop, not Math.max(...values): a run of days at 5 s ticks has hundreds of thousands of values, too many arguments
  const dataMax = (axis: 'left' | 'right') => {
    let m = 0;
    for (const l of lines) if ((l.axis ?? 'left') === axis) for (const v of l.values) m = Math.max(m, v[1]);
    return m;
  };
  const tickSets = {
    left: niceTicks(axes.left.max ?? dataMax('left'), { integer: axes.left.integer }),
    right: axes.right ? niceTicks(axes.right.max ?? dataMax('right'), { integer: axes.right.integer }) : [0, 1],
  };
  const ymax = { left: tickSets.left[tickSets.left.length - 1], right: tickSets.right[tickSets.right.length - 1] };
  const x = xOf(durationMs);
  const y = (v: number, axis: 'left' | 'right') => M.t + ih - (Math.min(v, ymax[axis]) / ymax[axis]) * ih;
  const parts: string[] = [];
  parts.push(timeAxis(durationMs, M.t, M.t + ih));
  for (const v of tickSets.left) {
    const yy = y(v, 'left').toFixed(1);
    parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${yy}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${M.l - 6}" y="${Number(yy) + 4}" class="tick ytick left" text-anchor="end">${esc(formatTick(v, axes.left.unit))}</text>`);
  }
  if (axes.right) {
    parts.push(`<line x1="${W - M.r}" x2="${W - M.r}" y1="${M.t}" y2="${M.t + ih}" class="axis"/>`);
    for (const v of tickSets.right) {
      const yy = y(v, 'right').toFixed(1);
      parts.push(`<line x1="${W - M.r}" x2="${W - M.r + 4}" y1="${yy}" y2="${yy}" class="axis"/>`);
      parts.push(`<text x="${W - M.r + 7}" y="${Number(yy) + 4}" class="tick ytick right">${esc(formatTick(v, axes.right.unit))}</text>`);
    }
  }
  parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${M.t + ih}" y2="${M.t + ih}" class="axis"/>`);
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
    parts.push(`<path d="${d}" fill="none" stroke="${l.color}" stroke-width="${l.width ?? 1.8}"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''} data-series="${esc(l.name)}" data-points="${l.values.length}"/>`);
  }
  parts.push(failureMarks(failed, durationMs, M.t, M.t + ih));
  const legend = lines.map((l) => swatch(`${l.name}${l.axis === 'right' ? ' (right axis)' : ''}`, l.color, { dash: l.dash, width: l.width })).join('');
  const failLegend = failed.length ? swatch('failed rescale', COLORS.bad, { marker: `<path d="M8,2l8,8m0,-8l-8,8" stroke="${COLORS.bad}" stroke-width="2.2"/>` }) : '';
  return `<figure class="chart"><figcaption>${esc(title)}<span class="legend">${legend}${failLegend}</span></figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg><div class="xunit">time since start (${timeUnit(durationMs)})</div></figure>`;
}

/** What an alarm in ALARM means: a high alarm (lag: SLO at risk, red; CPU: warning, amber), a low one (scale-in possible, neutral blue). */
export function alarmKind(alarmName: string): 'lag-high' | 'cpu-high' | 'low' | 'other' {
  const n = alarmName.toLowerCase();
  if (/(^|[-_.])low($|[-_.])|low-?lag|scale-?in/.test(n)) return 'low';
  if (/(^|[-_.])high($|[-_.])/.test(n)) return /cpu/.test(n) ? 'cpu-high' : 'lag-high';
  return 'other';
}

const ALARM_COLORS = { 'lag-high': '#f87171', 'cpu-high': '#fbbf24', low: '#93c5fd', other: '#cbd5e1' } as const;
const RESCALE_COLORS = { succeeded: '#22c55e', failed: COLORS.bad, running: '#f59e0b' } as const;

type DecisionKind = 'failed' | 'up' | 'down' | 'none';

function decisionKind(d: DecisionMark): DecisionKind {
  if (d.action === 'none') return 'none';
  if (/\((failed|skipped)\)/.test(d.action)) return 'failed';
  if (/\bdown\b|-in\b|-in-/.test(d.action)) return 'down';
  return 'up';
}

const DECISION_COLORS: Record<DecisionKind, string> = { failed: COLORS.bad, up: '#1d4ed8', down: '#7c3aed', none: '#cbd5e1' };

const decisionText = (d: DecisionMark) =>
  `${clock(d.t)} ${d.action}${d.targetParallelism !== undefined ? ` → p=${d.targetParallelism}` : ''}${d.targetTaskManagers !== undefined ? `, ${d.targetTaskManagers} TMs` : ''}: ${d.reason}`;

/** Width of a decision bucket, in chart units (the chart is 960 wide). */
export const DECISION_BUCKET_PX = 24;
/** A bucket holding more decisions than this is drawn as one marker with its count. */
export const DECISIONS_PER_BUCKET = 4;
/** How many of a bucket's latest reasons its hover text shows. */
const LATEST_REASONS = 3;

function decisionMarker(d: DecisionMark, cx: number, cy: number): string {
  const kind = decisionKind(d);
  const text = decisionText(d);
  const shape =
    kind === 'up'
      ? `<path d="M${cx - 5},${cy + 4}L${cx},${cy - 5}L${cx + 5},${cy + 4}Z"`
      : kind === 'down'
        ? `<path d="M${cx - 5},${cy - 4}L${cx},${cy + 5}L${cx + 5},${cy - 4}Z"`
        : kind === 'failed'
          ? `<rect x="${cx - 4.5}" y="${cy - 4.5}" width="9" height="9"`
          : `<circle cx="${cx}" cy="${cy}" r="4"`;
  return `${shape} fill="${DECISION_COLORS[kind]}" class="decision ${kind}" data-reason="${esc(text)}"><title>${esc(text)}</title>${shape.startsWith('<path') ? '</path>' : shape.startsWith('<rect') ? '</rect>' : '</circle>'}`;
}

/** Decisions as markers; where more than DECISIONS_PER_BUCKET fall in one bucket, one marker with the count. */
function decisionMarks(decisions: DecisionMark[], durationMs: number, cy: number): string {
  const x = xOf(durationMs);
  const buckets = new Map<number, DecisionMark[]>();
  for (const d of [...decisions].sort((a, b) => a.t - b.t)) {
    const b = Math.floor((x(d.t) - M.l) / DECISION_BUCKET_PX);
    buckets.set(b, [...(buckets.get(b) ?? []), d]);
  }
  const order: DecisionKind[] = ['failed', 'up', 'down', 'none'];
  const parts: string[] = [];
  const single: DecisionMark[] = [];
  for (const [b, ds] of buckets) {
    if (ds.length <= DECISIONS_PER_BUCKET) {
      single.push(...ds);
      continue;
    }
    const counts = new Map<DecisionKind, number>();
    for (const d of ds) counts.set(decisionKind(d), (counts.get(decisionKind(d)) ?? 0) + 1);
    const kind = order.find((k) => counts.has(k))!;
    const latest = ds.slice(-LATEST_REASONS).reverse();
    const acted = ds.filter((d) => d.action !== 'none');
    // the latest reasons, and every decision that acted (few), so a bucket never hides why it rescaled
    const shown = [...acted.filter((d) => !latest.includes(d)).slice(-LATEST_REASONS), ...latest].sort((a, b) => b.t - a.t);
    const breakdown = order.filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${k === 'none' ? 'no action' : k === 'failed' ? 'failed/skipped' : `scale ${k}`}`).join(', ');
    const text = `${ds.length} decisions ${clock(ds[0].t)}–${clock(ds[ds.length - 1].t)} (${breakdown}); latest: ${shown.map(decisionText).join(' | ')}`;
    const x0 = M.l + b * DECISION_BUCKET_PX + 1;
    const w = Math.min(DECISION_BUCKET_PX - 2, W - M.r - x0 + 1);
    parts.push(
      `<g class="decision bucket ${kind}" data-count="${ds.length}" data-reason="${esc(text)}"><title>${esc(text)}</title><rect x="${x0.toFixed(1)}" y="${cy - 7}" width="${w.toFixed(1)}" height="14" rx="2" fill="${DECISION_COLORS[kind]}"/><text x="${(x0 + w / 2).toFixed(1)}" y="${cy + 3}" text-anchor="middle" class="count${kind === 'none' ? '' : ' light'}">${ds.length < 1000 ? ds.length : formatTick(Math.round(ds.length / 100) * 100)}</text></g>`,
    );
  }
  // the ones that acted last, on top of the no-ops at the same time
  for (const d of single.sort((a, b) => order.indexOf(decisionKind(b)) - order.indexOf(decisionKind(a)) || a.t - b.t)) parts.push(decisionMarker(d, Number(x(d.t).toFixed(1)), cy));
  return parts.join('');
}

function eventsChart(job: JobRun, durationMs: number, failed: RescaleMark[]): string {
  const x = xOf(durationMs);
  const names = [...new Set(job.alarms.map((a) => a.alarmName))].sort();
  const rowH = 20;
  const yRes = M.t + names.length * rowH;
  const yDec = yRes + rowH;
  const yEnd = yDec + rowH;
  const h = yEnd + M.b;
  const parts: string[] = [timeAxis(durationMs, M.t, yEnd)];
  names.forEach((name, i) => {
    const y0 = M.t + i * rowH;
    const kind = alarmKind(name);
    parts.push(`<text x="${M.l - 6}" y="${y0 + 14}" class="tick" text-anchor="end">${esc(name.replace(/^.*?-(lag|cpu)-/, '$1-'))}</text>`);
    const marks = job.alarms.filter((a) => a.alarmName === name).sort((a, b) => a.t - b.t);
    marks.forEach((m, j) => {
      const end = j + 1 < marks.length ? marks[j + 1].t : durationMs;
      if (m.to === 'ALARM') {
        const meaning = kind === 'low' ? 'scale-in possible' : kind === 'lag-high' ? 'backlog high: scale out' : kind === 'cpu-high' ? 'CPU high' : 'in ALARM';
        const text = `${name}: ALARM (${meaning}) from ${clock(m.t)} to ${clock(end)}`;
        parts.push(`<rect x="${x(m.t).toFixed(1)}" y="${y0 + 3}" width="${Math.max(1, x(end) - x(m.t)).toFixed(1)}" height="${rowH - 6}" class="alarm ${kind}" fill="${ALARM_COLORS[kind]}" data-reason="${esc(text)}"><title>${esc(text)}</title></rect>`);
      }
    });
  });
  parts.push(`<text x="${M.l - 6}" y="${yRes + 14}" class="tick" text-anchor="end">rescales</text>`);
  for (const r of job.rescales) {
    const end = r.end ?? durationMs;
    const isFailed = failed.includes(r);
    const cls = isFailed ? 'failed' : r.outcome.startsWith('succeeded') ? 'succeeded' : 'running';
    const text = isFailed ? failureText(r) : `rescale ${r.from} → ${r.to}: ${r.outcome} (${clock(r.start)}–${clock(end)})`;
    parts.push(`<rect x="${x(r.start).toFixed(1)}" y="${yRes + 3}" width="${Math.max(3, x(end) - x(r.start)).toFixed(1)}" height="${rowH - 6}" class="rescale ${cls}" fill="${RESCALE_COLORS[cls]}" data-reason="${esc(text)}"><title>${esc(text)}</title></rect>`);
  }
  parts.push(`<text x="${M.l - 6}" y="${yDec + 14}" class="tick" text-anchor="end">decisions</text>`);
  const marks = decisionMarks(job.decisions, durationMs, yDec + rowH / 2);
  parts.push(marks);
  parts.push(failureMarks(failed, durationMs, M.t, yEnd));
  const present = new Set(names.map(alarmKind));
  const legend = [
    ...(present.has('lag-high') ? [swatch('lag high in ALARM (SLO at risk)', ALARM_COLORS['lag-high'], { area: true })] : []),
    ...(present.has('cpu-high') ? [swatch('CPU high in ALARM', ALARM_COLORS['cpu-high'], { area: true })] : []),
    ...(present.has('low') ? [swatch('low in ALARM (scale-in possible)', ALARM_COLORS.low, { area: true })] : []),
    swatch('rescale succeeded', RESCALE_COLORS.succeeded, { area: true }),
    ...(job.rescales.some((r) => !failed.includes(r) && !r.outcome.startsWith('succeeded')) ? [swatch('rescale running', RESCALE_COLORS.running, { area: true })] : []),
    ...(failed.length ? [swatch('rescale FAILED', RESCALE_COLORS.failed, { area: true })] : []),
    swatch('scale up', DECISION_COLORS.up, { marker: `<path d="M7,11L12,1L17,11Z" fill="${DECISION_COLORS.up}"/>` }),
    swatch('scale down', DECISION_COLORS.down, { marker: `<path d="M7,1L12,11L17,1Z" fill="${DECISION_COLORS.down}"/>` }),
    swatch('no action', DECISION_COLORS.none, { marker: `<circle cx="12" cy="6" r="4" fill="${DECISION_COLORS.none}" stroke="#0f172a" stroke-width=".5"/>` }),
    ...(!marks.includes('decision bucket') ? [] : [swatch('n decisions (bucket, hover for the latest reasons)', '#475569', { marker: `<rect x="5" y="0" width="14" height="12" rx="2" fill="#e2e8f0" stroke="#475569" stroke-width=".5"/><text x="12" y="9.5" text-anchor="middle" font-size="9" fill="#0f172a">n</text>` })]),
  ].join('');
  return `<figure class="chart"><figcaption>Alarms, rescales and decisions (hover for the reason)<span class="legend">${legend}</span></figcaption><svg viewBox="0 0 ${W} ${h}" role="img" aria-label="alarms and decisions">${parts.join('')}</svg><div class="xunit">time since start (${timeUnit(durationMs)})</div></figure>`;
}

const isFailed = (x: RescaleMark) => x.reason !== undefined || x.outcome.startsWith('failed') || x.outcome === 'rejected' || x.outcome === 'rescaled-cleanup-failed';

/** Plot width in px: a line never needs more than a few points per pixel column. */
const PLOT_PX = W - M.l - M.r;

/**
 * A long series (a 30-day replay has 500,000 points per line) drawn with what is visible: per pixel column of the plot,
 * its first, lowest, highest and last point, in time order, so every peak, dip and step edge survives and the report
 * stays a few hundred KB. Series short enough to draw whole (up to 4 points per column) are returned as they are.
 */
export function decimate(values: [number, number][], durationMs: number, columns = PLOT_PX): [number, number][] {
  if (values.length <= 4 * columns || durationMs <= 0) return values;
  const out: [number, number][] = [];
  let i = 0;
  while (i < values.length) {
    const col = Math.min(columns - 1, Math.floor((values[i][0] / durationMs) * columns));
    let lo = i;
    let hi = i;
    let j = i + 1;
    for (; j < values.length && Math.min(columns - 1, Math.floor((values[j][0] / durationMs) * columns)) === col; j++) {
      if (values[j][1] < values[lo][1]) lo = j;
      if (values[j][1] > values[hi][1]) hi = j;
    }
    for (const k of [...new Set([i, lo, hi, j - 1])].sort((a, b) => a - b)) out.push(values[k]);
    i = j;
  }
  return out;
}

/** One chart line from a series: the points where `f` is defined, decimated as it goes (never all pairs at once). */
function seriesLine(series: SeriesPoint[], f: (p: SeriesPoint) => number | undefined, durationMs: number): [number, number][] {
  const n = series.length;
  if (n <= 4 * PLOT_PX) {
    const out: [number, number][] = [];
    for (const p of series) {
      const v = f(p);
      if (v !== undefined) out.push([p.t, v]);
    }
    return out;
  }
  // per pixel column: its first, lowest, highest and last defined point (what decimate keeps)
  const out: [number, number][] = [];
  let col = -1;
  let bucket: [number, number][] = [];
  const flush = () => {
    if (bucket.length === 0) return;
    let lo = 0;
    let hi = 0;
    for (let k = 1; k < bucket.length; k++) {
      if (bucket[k][1] < bucket[lo][1]) lo = k;
      if (bucket[k][1] > bucket[hi][1]) hi = k;
    }
    for (const k of [...new Set([0, lo, hi, bucket.length - 1])].sort((a, b) => a - b)) out.push(bucket[k]);
    bucket = [];
  };
  for (const p of series) {
    const v = f(p);
    if (v === undefined) continue;
    const c = durationMs > 0 ? Math.min(PLOT_PX - 1, Math.floor((p.t / durationMs) * PLOT_PX)) : 0;
    if (c !== col) {
      flush();
      col = c;
    }
    bucket.push([p.t, v]);
  }
  flush();
  return out;
}

export function renderReport(r: ReportInput): string {
  const jobs = r.jobs
    .map((j) => {
      const pts = (f: (p: SeriesPoint) => number | undefined) => seriesLine(j.series, f, r.durationMs);
      const acted = j.decisions.filter((d) => d.action !== 'none');
      const decisions = acted
        .map((d) => `<tr class="decision-row ${decisionKind(d)}"><td>${clock(d.t)}</td><td>${esc(d.action)}</td><td>${d.targetParallelism ?? ''}</td><td>${d.targetTaskManagers ?? ''}</td><td>${esc(d.trigger ?? '')}</td><td>${esc(d.reason)}</td></tr>`)
        .join('');
      const failed = j.rescales.filter(isFailed);
      const failedTable = failed.length
        ? `<div class="failures" role="alert"><b>${failed.length} rescale(s) FAILED</b><table><thead><tr><th>time</th><th>rescale</th><th>outcome</th><th>reason</th></tr></thead><tbody>${failed
            .map((x) => `<tr class="failed-rescale"><td>${clock(x.start)}</td><td>${x.from} → ${x.to}</td><td>${esc(x.outcome)}</td><td>${esc(x.reason ?? '')}</td></tr>`)
            .join('')}</tbody></table></div>`
        : '';
      const rescaleRows = j.rescales
        .map((x) => {
          const cls = failed.includes(x) ? 'failed' : x.outcome.startsWith('succeeded') ? 'succeeded' : 'running';
          const took = x.end !== undefined ? `${Math.round((x.end - x.start) / 1000)} s` : '';
          return `<tr class="rescale-row ${cls}"><td>${clock(x.start)}</td><td>${x.from} → ${x.to}</td><td><b>${esc(x.outcome)}</b></td><td>${took}</td><td>${esc(x.reason ?? '')}</td></tr>`;
        })
        .join('');
      const hasCpu = j.series.some((p) => p.cpuPercent !== undefined);
      return `<section class="job" data-job="${esc(j.job)}"><h2>${esc(j.job)}</h2>
${failedTable}
${chart('Input rate vs processing capacity', r.durationMs, { left: { unit: 'rec/s' } }, [
  { name: 'input rate', color: '#2563eb', values: pts((p) => p.inputRate) },
  { name: 'capacity', color: COLORS.good, values: pts((p) => p.capacity), step: true, dash: '7 3' },
], failed)}
${chart('Lag (records) and backlog (seconds)', r.durationMs, { left: { unit: 'rec' }, right: { unit: 's' } }, [
  { name: 'lag (records)', color: '#0891b2', values: pts((p) => p.lagRecords), width: 3 },
  { name: 'backlog seconds', color: '#9333ea', values: pts((p) => p.backlogSeconds), axis: 'right', width: 1.4 },
  { name: `tolerated backlog (${j.maxBacklogSeconds} s)`, color: COLORS.bad, values: [[0, j.maxBacklogSeconds], [r.durationMs, j.maxBacklogSeconds]], axis: 'right', dash: '5 4', width: 1.5 },
], failed)}
${chart('Parallelism and TaskManagers', r.durationMs, { left: { unit: '', integer: true }, ...(hasCpu ? { right: { unit: '%', max: 100 } } : {}) }, [
  { name: 'parallelism', color: '#2563eb', values: pts((p) => p.parallelism), step: true, width: 2.2 },
  { name: 'TaskManagers', color: '#9333ea', values: pts((p) => p.taskManagers), step: true, dash: '7 3', width: 2.2 },
  ...(hasCpu ? [{ name: 'CPU %', color: COLORS.muted, values: pts((p) => p.cpuPercent), axis: 'right' as const, width: 1.2 }] : []),
], failed)}
${eventsChart(j, r.durationMs, failed)}
<details${failed.length ? ' open' : ''}><summary>${j.rescales.length} rescale(s)${failed.length ? `, ${failed.length} FAILED` : ''}</summary>
<table class="rescales"><thead><tr><th>time</th><th>rescale</th><th>outcome</th><th>took</th><th>reason</th></tr></thead><tbody>${rescaleRows}</tbody></table></details>
<details><summary>${acted.length} decisions that acted (of ${j.decisions.length})</summary>
<table><thead><tr><th>time</th><th>action</th><th>parallelism</th><th>TMs</th><th>trigger</th><th>reason</th></tr></thead><tbody>${decisions}</tbody></table></details>
</section>`;
    })
    .join('\n');
  const summary = r.summary.map((s) => `<tr${/^FAILED/.test(s.label) ? ' class="failed-summary"' : ''}><th>${esc(s.label)}</th><td>${esc(s.value)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1000px;padding:0 12px;color:#0f172a;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #e2e8f0}
.meta{color:#475569;margin-bottom:12px}table{border-collapse:collapse;margin:8px 0}th,td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}
.chart{margin:10px 0 4px}.chart figcaption{font-weight:600;font-size:13px}.legend{display:inline}.legend-item{font-weight:400;margin-left:12px;color:#334155;white-space:nowrap}
.swatch{vertical-align:-1px;margin-right:4px}.xunit{text-align:right;font-size:11px;color:#64748b;margin-top:-4px}
figure.chart>svg{width:100%;height:auto}.swatch{width:24px;height:12px}.grid{stroke:#eef2f6}.axis{stroke:#94a3b8}.tick{font-size:11px;fill:#475569}.count{font-size:9px;fill:#0f172a}.count.light{fill:#fff}.failure-label{font-size:10px;font-weight:600;fill:#b91c1c}
.failures{border:2px solid #dc2626;background:#fef2f2;padding:6px 10px;border-radius:6px;margin:8px 0}.failed-summary th,.failed-summary td{color:#b91c1c}
.rescale-row.failed td{background:#fef2f2;color:#b91c1c}.rescale-row.succeeded b{color:#15803d}.decision-row.failed td{color:#b91c1c}
.alarm,.rescale,.decision,.failure-mark{cursor:help}.decision{stroke:#0f172a;stroke-width:.5}.decision.bucket{stroke:none}.decision.bucket rect{stroke:#0f172a;stroke-width:.5}
#hover{position:fixed;bottom:12px;left:50%;transform:translateX(-50%);max-width:900px;background:#0f172a;color:#fff;padding:6px 10px;border-radius:6px;display:none;font-size:13px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<div class="meta">scenario <b>${esc(r.scenario)}</b> · policy <b>${esc(r.policy)}</b> · seed ${r.seed} · ${clock(r.durationMs)} of virtual time · ${esc(r.generatedBy)}</div>
<table class="summary">${summary}</table>
${jobs}
<div id="hover"></div>
<script>
// Show the reason of a decision, a bucket of decisions, an alarm or a rescale in a panel on hover (the SVG <title> tooltip works too, this is easier to read).
document.querySelectorAll('[data-reason]').forEach(function (c) {
  var box = document.getElementById('hover');
  c.addEventListener('mouseenter', function () { box.textContent = c.getAttribute('data-reason'); box.style.display = 'block'; });
  c.addEventListener('mouseleave', function () { box.style.display = 'none'; });
});
document.body.setAttribute('data-rendered', String(document.querySelectorAll('path[data-points]').length));
</script>
</body></html>
`;
}
