import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportInput, renderReport } from '../../local/report';
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
  });
});
