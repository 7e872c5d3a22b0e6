/** Where a command writes, and what tests replace: kept apart from bin/cli.ts so commands never import the CLI that registers them. */
import type { CliServices } from './context';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Replaces AWS clients, clock, sleep, ... (tests). */
  services?: Partial<CliServices>;
}

export const defaultIo: CliIo = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
};
