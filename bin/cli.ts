/**
 * The flink-elastic command line. Each command lives in bin/commands/<name>.ts and registers itself here.
 * Option style everywhere: long kebab-case options, `--config FILE`, `--job NAME`, `--json` for scripts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerValidate } from './commands/validate';
import { registerEmulator } from './commands/emulator';
import { registerDecide } from './commands/decide';
import { registerStatus } from './commands/status';
import { registerScaleOut } from './commands/scale-out';
import { registerScaleIn } from './commands/scale-in';
import { registerRescale } from './commands/rescale';
import { registerDrain } from './commands/drain';
import { registerHistory } from './commands/history';
import { defaultIo, type CliIo } from './commands/support/io';
import { CommandFailed } from './commands/support/exit';
import { registerSimulate } from './commands/simulate';
import { registerRun } from './commands/run';

/** The package's version (package.json next to bin/), printed by `--version`. */
export const CLI_VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

export function buildCli(io: CliIo = defaultIo): Command {
  const program = new Command('flink-elastic')
    .description('Elastic scaling for Apache Flink on AWS')
    .version(CLI_VERSION, '-V, --version', 'print the flink-elastic version')
    .option('-c, --config <file>', 'config file (default: $FLINK_ELASTIC_CONFIG or ./flink-elastic.config.json)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerValidate(program, io);
  registerEmulator(program, io);
  registerDecide(program, io);
  registerStatus(program, io);
  registerScaleOut(program, io);
  registerScaleIn(program, io);
  registerRescale(program, io);
  registerDrain(program, io);
  registerHistory(program, io);
  registerSimulate(program, io);
  registerRun(program, io);
  return program;
}

/** Runs the CLI and returns the exit code (0 ok, 1 failure, 2 usage error: bad options or arguments). */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    if (e instanceof CommandFailed) {
      if (e.message) io.err(`error: ${e.message}`);
      return e.exitCode;
    }
    io.err(`error: ${(e as Error).message}`);
    return 1;
  }
}
