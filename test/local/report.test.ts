import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DECISION_BUCKET_PX, DECISIONS_PER_BUCKET, ReportInput, alarmKind, decimate, formatTick, niceStep, niceTicks, renderReport, timeLabel, timeTicks } from '../../local/report';
import { describeWithChromium, dumpDom, screenshot } from '../support/chromium';

function sample(): ReportInput {
  const series = Array.from({ length: 60 }, (_, i) => ({
    t: i * 60_000,
    inputRate: i < 20 ? 1000 : 3000,
    capacity: i < 25 ? 1500 : 4000,
    lagRecords: i < 20 ? 0 : i < 30 ? (i - 20) * 90_000 : Math.max(0, 900_000 - (i - 30) * 60_000),
    backlogSeconds: i < 20 ? 0 : 30,
    parallelism: i < 25 ? 3 : 8,
    taskManagers: i < 25 ? 2 : 4,
  }));
  return {
    title: 'flink-elastic simulation <step-spike>',
    scenario: 'step-spike',
    policy: 'flink-elastic',
    seed: 1,
    durationMs: 59 * 60_000,
    generatedBy: 'test',
    summary: [{ label: 'SLO violation seconds', value: '600' }],
    jobs: [
      {
        job: 'orders',
        maxBacklogSeconds: 10,
        series,
        decisions: [
          { t: 21 * 60_000, action: 'rescale', reason: 'input 3000 rec/s > capacity 1500 rec/s & "backlog" <growing>', targetParallelism: 8, targetTaskManagers: 4, trigger: 'orders-lag-high' },
          { t: 22 * 60_000, action: 'none', reason: 'cooldown' },
        ],
        alarms: [
          { t: 20 * 60_000, alarmName: 'FlinkElastic-orders-lag-high', from: 'OK', to: 'ALARM' },
          { t: 35 * 60_000, alarmName: 'FlinkElastic-orders-lag-high', from: 'ALARM', to: 'OK' },
          { t: 40 * 60_000, alarmName: 'FlinkElastic-orders-lag-low', from: 'OK', to: 'ALARM' },
        ],
        rescales: [{ start: 21 * 60_000, end: 25 * 60_000, from: 3, to: 8, outcome: 'succeeded' }],
      },
    ],
  };
}

test('the report is one self-contained file: no external scripts, styles or images, and text is escaped', () => {
  const html = renderReport(sample());
  expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src="http/);
  expect(html).toContain('&lt;step-spike&gt;');
  expect(html).toContain('&quot;backlog&quot; &lt;growing&gt;');
  expect(html).not.toContain('<growing>');
});

describeWithChromium('report in headless Chromium', () => {
  test('renders, every chart has data, and decisions carry their reason for hover', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReport(sample()));
    const dom = dumpDom(file);
    // the inline script ran and counted the plotted series
    const rendered = Number(/data-rendered="(\d+)"/.exec(dom)?.[1]);
    expect(rendered).toBeGreaterThanOrEqual(7);
    const series = [...dom.matchAll(/data-series="([^"]+)" data-points="(\d+)"/g)].map((m) => ({ series: m[1], points: Number(m[2]) }));
    expect(series.length).toBe(rendered);
    for (const x of series) expect({ series: x.series, points: x.points > 1 }).toEqual({ series: x.series, points: true });
    expect(dom).toMatch(/class="decision up" data-reason="[^"]*rescale → p=8, 4 TMs: input 3000 rec\/s/);
    const png = join(dir, 'report.png');
    screenshot(file, png);
    expect(existsSync(png) && statSync(png).size).toBeGreaterThan(10_000);
  }, 120_000);

  test('a 3-day run with a failed rescale renders: failure marks, decision buckets, a screenshot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const file = join(dir, 'report.html');
    // as a user pointing at the failure mark: the hover panel shows its reason
    const hover = `<script>document.querySelector('g.failure-mark').dispatchEvent(new MouseEvent('mouseenter'));document.body.setAttribute('data-hover', document.getElementById('hover').style.display + ': ' + document.getElementById('hover').textContent);</script>`;
    writeFileSync(file, renderReport(long()).replace('</body>', `${hover}</body>`));
    const dom = dumpDom(file);
    expect(dom).toContain('data-hover="block: FAILED rescale 7 → 12 at 20:00:00: failed-rolled-back: FlinkApiError: resubmit: injected fault &lt;run fails&gt;"');
    expect(dom.match(/<g class="failure-mark"/g)).toHaveLength(4);
    expect(dom).toMatch(/<g class="decision bucket up" data-count="\d+"/);
    const png = join(dir, 'report.png');
    screenshot(file, png, '1400,1800');
    expect(existsSync(png) && statSync(png).size).toBeGreaterThan(10_000);
  }, 120_000);
});

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Three days, a decision every minute (some acting), and a rescale that failed with its reason. */
function long(): ReportInput {
  const r = sample();
  const durationMs = 72 * HOUR;
  const series = Array.from({ length: 72 * 12 + 1 }, (_, i) => {
    const t = i * 5 * MIN;
    const rate = 1000 + 8000 * Math.max(0, Math.sin((Math.PI * ((t / HOUR) % 24 - 6)) / 16)) ** 2;
    return { t, inputRate: rate, capacity: 10_000, lagRecords: 0, backlogSeconds: 0.39999999999999997, parallelism: 7, taskManagers: 4, cpuPercent: rate / 100 };
  });
  const decisions = Array.from({ length: 72 * 60 }, (_, i) =>
    i % 600 === 300
      ? { t: i * MIN, action: 'rescale up', reason: `scaled: backlog grows (#${i})`, targetParallelism: 9 }
      : { t: i * MIN, action: 'none', reason: `no-change: within target (#${i})` },
  );
  return {
    ...r,
    durationMs,
    jobs: [
      {
        ...r.jobs[0],
        series,
        decisions,
        rescales: [
          { start: 10 * HOUR, end: 10 * HOUR + 3 * MIN, from: 7, to: 9, outcome: 'succeeded' },
          { start: 20 * HOUR, end: 20 * HOUR + 2 * MIN, from: 7, to: 12, outcome: 'failed-rolled-back', reason: 'FlinkApiError: resubmit: injected fault <run fails>' },
        ],
      },
    ],
  };
}

const attr = (el: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(el)?.[1];
const charts = (html: string) => [...html.matchAll(/<figure class="chart">([\s\S]*?)<\/figure>/g)].map((m) => m[1]);
const tickLabels = (chartHtml: string, side: 'left' | 'right') => [...chartHtml.matchAll(new RegExp(`class="tick ytick ${side}"[^>]*>([^<]*)<`, 'g'))].map((m) => m[1]);

describe('axis ticks', () => {
  test('are on 1-2-5 steps from 0 to the first step at or above the maximum', () => {
    expect(niceTicks(789_021)).toEqual([0, 200_000, 400_000, 600_000, 800_000]);
    expect(niceTicks(132.8)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(12_000)).toEqual([0, 2000, 4000, 6000, 8000, 10_000, 12_000]);
    expect(niceTicks(0.7)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(0.39999999999999997)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(niceTicks(13, { integer: true })).toEqual([0, 5, 10, 15]);
    expect(niceTicks(2, { integer: true })).toEqual([0, 1, 2]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  test('property: the step is 1, 2 or 5 × 10^k, at most 6 intervals cover the maximum, and every tick prints short', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e10, noNaN: true }), (max) => {
        const ticks = niceTicks(max);
        const step = niceStep(max);
        const mantissa = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
        expect([1, 2, 5].some((f) => Math.abs(mantissa - f) < 1e-9)).toBe(true);
        expect(ticks.length - 1).toBeLessThanOrEqual(6);
        expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max * (1 - 1e-12));
        for (const t of ticks) expect(formatTick(t, 's')).toMatch(/^-?\d{1,3}(\.\d{1,4})?[kMG]? s$/);
      }),
    );
  });

  test('labels carry their unit and no float noise', () => {
    expect(formatTick(1200, 'rec/s')).toBe('1.2k rec/s');
    expect(formatTick(800_000, 'rec')).toBe('800k rec');
    expect(formatTick(1_500_000)).toBe('1.5M');
    expect(formatTick(0.1 + 0.2, 's')).toBe('0.3 s');
    expect(formatTick(100, '%')).toBe('100 %');
  });

  test('time ticks are on clock steps and labelled h:mm, or by day for runs of days', () => {
    expect(timeTicks(90 * MIN).map((t) => timeLabel(t, 90 * MIN))).toEqual(['0:00', '0:15', '0:30', '0:45', '1:00', '1:15', '1:30']);
    expect(timeTicks(24 * HOUR).map((t) => timeLabel(t, 24 * HOUR))).toEqual(['0:00', '3:00', '6:00', '9:00', '12:00', '15:00', '18:00', '21:00', '24:00']);
    expect(timeTicks(22 * MIN).map((t) => timeLabel(t, 22 * MIN))).toEqual(['0:00', '0:05', '0:10', '0:15', '0:20']);
    expect(timeTicks(72 * HOUR).map((t) => timeLabel(t, 72 * HOUR))).toEqual(['00:00', '12:00', '1d 00:00', '1d 12:00', '2d 00:00', '2d 12:00', '3d 00:00']);
  });

  test('in the report, every y tick is a short number with its unit (3 days of data, a backlog of 0.39999999999999997 s)', () => {
    for (const input of [sample(), long()]) {
      const html = renderReport(input);
      const [rate, lag, par] = charts(html);
      expect(tickLabels(rate, 'left').every((l) => /^\d+(\.\d)?k? rec\/s$/.test(l))).toBe(true);
      expect(tickLabels(lag, 'left').every((l) => /^\d+(\.\d)?[kM]? rec$/.test(l))).toBe(true);
      expect(tickLabels(lag, 'right').every((l) => /^\d+(\.\d)? s$/.test(l))).toBe(true);
      expect(tickLabels(par, 'left').every((l) => /^\d+$/.test(l))).toBe(true);
      expect(html).not.toMatch(/>\d*\.\d{4,}/);
    }
    const [rate, lag] = charts(renderReport(sample()));
    expect(tickLabels(rate, 'left')).toEqual(['0 rec/s', '1k rec/s', '2k rec/s', '3k rec/s', '4k rec/s']);
    expect(tickLabels(lag, 'left')).toEqual(['0 rec', '200k rec', '400k rec', '600k rec', '800k rec', '1M rec']);
    expect(tickLabels(lag, 'right')).toEqual(['0 s', '5 s', '10 s', '15 s', '20 s', '25 s', '30 s']);
    expect(tickLabels(charts(renderReport(long()))[2], 'right')).toEqual(['0 %', '20 %', '40 %', '60 %', '80 %', '100 %']);
    // CPU is read against 100 % even when the job is nearly idle
    const idle = long();
    for (const p of idle.jobs[0].series) p.cpuPercent = 2;
    expect(tickLabels(charts(renderReport(idle))[2], 'right')).toEqual(['0 %', '20 %', '40 %', '60 %', '80 %', '100 %']);
  });
});

describe('legend', () => {
  test('one swatch per series, distinct within a chart, drawn dashed for a dashed line', () => {
    const html = renderReport(long());
    for (const c of charts(html).slice(0, 3)) {
      const paths = [...c.matchAll(/<path [^>]*data-series="[^"]*"[^>]*>/g)].map((m) => m[0]);
      const items = [...c.matchAll(/<span class="legend-item"[^>]*>[\s\S]*?<\/span>/g)].map((m) => m[0]);
      const seriesItems = items.filter((i) => !/data-legend="failed rescale"/.test(i));
      expect(seriesItems).toHaveLength(paths.length);
      expect(new Set(seriesItems.map((i) => `${attr(i, 'data-color')}/${attr(i, 'data-dash')}`)).size).toBe(paths.length);
      paths.forEach((p, k) => {
        const item = seriesItems[k];
        expect(attr(item, 'data-legend')).toContain(attr(p, 'data-series'));
        expect(attr(item, 'data-color')).toBe(attr(p, 'stroke'));
        expect(attr(item, 'data-dash')).toBe(attr(p, 'stroke-dasharray') ?? '');
        if (attr(p, 'stroke-dasharray')) expect(item).toContain(`stroke-dasharray="${attr(p, 'stroke-dasharray')}"`);
      });
    }
    // the tolerated backlog is dashed (and not the same swatch as the backlog seconds)
    expect(html).toMatch(/data-legend="tolerated backlog \(10 s\) \(right axis\)" data-color="#dc2626" data-dash="5 4"/);
    expect(html).toMatch(/data-legend="TaskManagers" data-color="[^"]+" data-dash="7 3"/);
  });
});

describe('colours mean what they say', () => {
  test('a low alarm in ALARM is neutral blue (scale-in possible); a high lag alarm is red, a high CPU one amber', () => {
    expect(['FlinkElastic-orders-lag-low', 'FlinkElastic-orders-cpu-low'].map(alarmKind)).toEqual(['low', 'low']);
    expect(['FlinkElastic-orders-lag-high', 'FlinkElastic-orders-cpu-high'].map(alarmKind)).toEqual(['lag-high', 'cpu-high']);
    const html = renderReport(sample());
    const alarms = [...html.matchAll(/<rect [^>]*class="alarm [^"]*"[^>]*>/g)].map((m) => m[0]);
    const low = alarms.find((a) => /class="alarm low"/.test(a))!;
    const high = alarms.find((a) => /class="alarm lag-high"/.test(a))!;
    expect(attr(low, 'fill')).toBe('#93c5fd');
    expect(attr(low, 'data-reason')).toContain('scale-in possible');
    expect(attr(high, 'fill')).toBe('#f87171');
    expect(html).toMatch(/data-legend="low in ALARM \(scale-in possible\)" data-color="#93c5fd"/);
  });

  test('a rescale that succeeded is green, one that failed red', () => {
    const html = renderReport(long());
    expect(html).toMatch(/class="rescale succeeded" fill="#22c55e"/);
    expect(html).toMatch(/class="rescale failed" fill="#dc2626"/);
  });
});

describe('failed rescales', () => {
  test('are marked on every chart with their reason on hover, and listed in the tables', () => {
    const html = renderReport(long());
    const c = charts(html);
    expect(c).toHaveLength(4);
    for (const chart of c) {
      const marks = [...chart.matchAll(/<g class="failure-mark" data-reason="([^"]*)"/g)].map((m) => m[1]);
      expect(marks).toEqual(['FAILED rescale 7 → 12 at 20:00:00: failed-rolled-back: FlinkApiError: resubmit: injected fault &lt;run fails&gt;']);
      expect(chart).toContain('rescale 7 → 12 failed</text>');
    }
    expect(html).toMatch(/<tr class="failed-rescale"><td>20:00:00<\/td><td>7 → 12<\/td><td>failed-rolled-back<\/td><td>FlinkApiError: resubmit: injected fault &lt;run fails&gt;/);
    expect(html).toMatch(/<tr class="rescale-row failed"><td>20:00:00<\/td><td>7 → 12<\/td><td><b>failed-rolled-back<\/b><\/td><td>120 s<\/td><td>FlinkApiError/);
    expect(html).toMatch(/<tr class="rescale-row succeeded"><td>10:00:00<\/td>/);
    expect(html).toContain('<summary>2 rescale(s), 1 FAILED</summary>');
    // none when none failed
    expect(renderReport(sample())).not.toContain('class="failure-mark"');
  });
});

describe('decisions', () => {
  test('a short run shows each decision with its reason', () => {
    const html = renderReport(sample());
    expect(html).not.toContain('decision bucket');
    expect(html.match(/class="decision (up|down|none|failed)"/g)).toHaveLength(2);
  });

  test('a long run buckets them: every decision counted once, the count shown, hover has the count and the latest reasons', () => {
    const input = long();
    const html = renderReport(input);
    const buckets = [...html.matchAll(/<g class="decision bucket (\w+)" data-count="(\d+)" data-reason="([^"]*)">[\s\S]*?<\/g>/g)].map((m) => ({ kind: m[1], count: Number(m[2]), reason: m[3], el: m[0] }));
    const singles = html.match(/class="decision (up|down|none|failed)"/g) ?? [];
    expect(buckets.reduce((s, b) => s + b.count, 0) + singles.length).toBe(input.jobs[0].decisions.length);
    // legible: at most 832 / DECISION_BUCKET_PX markers in the row, each bucket over DECISIONS_PER_BUCKET
    expect(buckets.length + singles.length).toBeLessThanOrEqual(Math.ceil(832 / DECISION_BUCKET_PX) + 1);
    for (const b of buckets) {
      expect(b.count).toBeGreaterThan(DECISIONS_PER_BUCKET);
      expect(b.el).toContain(`>${b.count}</text>`);
      expect(b.reason).toMatch(new RegExp(`^${b.count} decisions \\d\\d:\\d\\d:\\d\\d–\\d\\d:\\d\\d:\\d\\d \\(`));
      expect(b.reason).toContain('latest: ');
    }
    // the bucket holding a scale-up is coloured as one and names its reason; the last bucket names the last decision
    const up = buckets.filter((b) => b.kind === 'up');
    expect(up).toHaveLength(input.jobs[0].decisions.filter((d) => d.action !== 'none').length);
    for (const b of up) expect(b.reason).toMatch(/1 scale up, \d+ no action\); latest: .*rescale up → p=9: scaled: backlog grows/);
    expect(buckets[buckets.length - 1].reason).toContain('no-change: within target (#4319)');
    expect(html).toMatch(/data-legend="n decisions \(bucket, hover for the latest reasons\)"/);
  });
});

describe('long series are decimated for drawing', () => {
  const DAY = 86_400_000;
  test('a 30-day series at 5 s keeps every column\'s first, lowest, highest and last point, in time order', () => {
    const n = (30 * DAY) / 5000;
    const values: [number, number][] = Array.from({ length: n + 1 }, (_, i) => [i * 5000, 1000 + 500 * Math.sin(i / 97) + (i === 123_457 ? 1e6 : 0) + (i === 400_001 ? -5000 : 0)]);
    const d = decimate(values, 30 * DAY);
    expect(d.length).toBeLessThanOrEqual(4 * 804);
    expect(d.length).toBeGreaterThan(804);
    expect(d[0]).toEqual(values[0]);
    expect(d[d.length - 1]).toEqual(values[n]);
    // the one-tick spike and dip survive
    const max = (xs: [number, number][]) => xs.reduce((a, v) => Math.max(a, v[1]), -Infinity);
    const min = (xs: [number, number][]) => xs.reduce((a, v) => Math.min(a, v[1]), Infinity);
    expect(max(d)).toBe(max(values));
    expect(min(d)).toBe(min(values));
    for (let i = 1; i < d.length; i++) expect(d[i][0]).toBeGreaterThan(d[i - 1][0]);
  });

  test('a series short enough to draw whole is drawn whole', () => {
    const values: [number, number][] = Array.from({ length: 1081 }, (_, i) => [i * 5000, i % 7]);
    expect(decimate(values, 90 * 60_000)).toBe(values);
  });
});

test('a run of days at 5 s ticks (5 days: 86,400 points a line) renders: the axis maximum is not a spread of every value (it overflowed the call stack)', () => {
  const input = sample();
  const n = 86_400;
  input.durationMs = n * 5_000;
  input.jobs[0].series = Array.from({ length: n }, (_, i) => ({ t: i * 5_000, inputRate: 2000 + (i % 97), capacity: 4000, lagRecords: i % 1000, backlogSeconds: 0, parallelism: 4, taskManagers: 2, cpuPercent: 40 }));
  const html = renderReport(input);
  expect(html).toContain('<svg');
  expect(html.length).toBeGreaterThan(1000);
});
