/**
 * The flink-elastic command line. Each command lives in bin/commands/<name>.ts and registers itself here.
 * Option style everywhere: long kebab-case options, `--config FILE`, `--job NAME`, `--json` for scripts.
 */
import { Command, CommanderError } from 'commander';
import { registerValidate } from './commands/validate';
import { registerEmulator } from './commands/emulator';
import { registerDecide } from './commands/decide';
import { registerSimulate } from './commands/simulate';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const defaultIo: CliIo = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
};

export function buildCli(io: CliIo = defaultIo): Command {
  const program = new Command('flink-elastic')
    .description('Elastic scaling for Apache Flink on AWS')
    .option('-c, --config <file>', 'config file (default: $FLINK_ELASTIC_CONFIG or ./flink-elastic.config.json)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerValidate(program, io);
  registerEmulator(program, io);
  registerDecide(program, io);
  registerSimulate(program, io);
  return program;
}

/** Runs the CLI and returns the exit code (0 ok, 1 failure, 2 usage error). */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    io.err(`error: ${(e as Error).message}`);
    return 1;
  }
}
