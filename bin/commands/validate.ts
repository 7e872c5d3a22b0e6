import type { Command } from 'commander';
import type { CliIo } from './support/io';
import { loadConfig, configPath } from '../../functions/adapters/config-file';
import { ConfigError, type Config } from '../../functions/core/config';
import { CommandFailed } from './support/exit';
import { jsonText } from './support/json';

/** `validate --json` (documented in docs/cli.md): the same shape for a valid and an invalid file. */
export interface ValidateReport {
  valid: boolean;
  file: string;
  problems: { path: string; message: string; value?: unknown }[];
  /** Valid files only: the job names, and the config with every default filled in. */
  jobs?: string[];
  config?: Config;
}

export function registerValidate(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('Check the config file and list every problem at once')
    .option('--json', 'print {valid, file, problems: [{path, message, value}], jobs, config} on stdout (also for an invalid file)')
    .addHelpText('after', '\nExit code 0 when the file is valid, 1 when it is not.\n\nExample:\n  $ flink-elastic validate --config flink-elastic.config.json\n  $ flink-elastic validate --config bad.json --json | jq -r \'.problems[] | "\\(.path): \\(.message)"\'')
    .action((opts: { json?: boolean }) => {
      const file = configPath(program.opts().config);
      let config: Config;
      try {
        config = loadConfig(file);
      } catch (e) {
        if (!(e instanceof ConfigError) || !opts.json) throw e;
        const report: ValidateReport = { valid: false, file, problems: e.problems.map((p) => ({ path: p.path, message: p.message, ...(p.value !== undefined ? { value: p.value } : {}) })) };
        io.out(jsonText(report));
        throw new CommandFailed(1, e.message);
      }
      if (opts.json) {
        const report: ValidateReport = { valid: true, file, problems: [], jobs: config.jobs.map((j) => j.name), config };
        io.out(jsonText(report));
      } else io.out(`${file}: valid, ${config.jobs.length} job(s): ${config.jobs.map((j) => `${j.name} (${j.mode}, ${j.target.kind})`).join(', ')}`);
    });
}
