import type { Command } from 'commander';
import type { CliIo } from '../cli';
import { loadConfig, configPath } from '../../functions/adapters/config-file';

export function registerValidate(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('Check the config file and list every problem at once')
    .option('--json', 'print the validated config (with defaults filled in) as JSON')
    .addHelpText('after', '\nExample:\n  $ flink-elastic validate --config flink-elastic.config.json')
    .action((opts: { json?: boolean }) => {
      const file = configPath(program.opts().config);
      const config = loadConfig(file);
      if (opts.json) io.out(JSON.stringify(config, null, 2));
      else io.out(`${file}: valid, ${config.jobs.length} job(s): ${config.jobs.map((j) => `${j.name} (${j.mode}, ${j.target.kind})`).join(', ')}`);
    });
}
