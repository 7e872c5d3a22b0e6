/** Headless Chromium (Debian's `chromium` package) for tests that look at what people see. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

/** In CI the browser is required (.ci/run installs it); on a developer machine without it the test is skipped. */
export const describeWithChromium: jest.Describe = CHROMIUM || process.env.CI === 'true' ? describe : describe.skip;
if (!CHROMIUM && process.env.CI !== 'true') {
  process.stderr.write('chromium not found: browser tests skipped (apt-get install chromium to run them)\n');
}

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

/** The DOM after the page's scripts ran. */
export function dumpDom(file: string): string {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  return execFileSync(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, '--virtual-time-budget=2000', '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** A PNG screenshot of the page. */
export function screenshot(file: string, png: string, size = '1100,1600'): void {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  execFileSync(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, `--window-size=${size}`, `--screenshot=${png}`, `file://${file}`], { timeout: 60_000, stdio: 'ignore' });
}
