/**
 * The local Flink JobManager emulator: a model (TaskManagers, jobs, savepoints, load) behind a loopback HTTP server
 * that speaks Flink's REST wire format. Tests, the rescale workflow tests and the simulator use `startEmulator`.
 *
 *   const emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2 });
 *   const job = emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1500 });
 *   emu.clock.advance(10_000);            // virtual time: jobs start, records flow, savepoints complete
 *   const client = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
 *   await emu.close();
 */
import { VirtualClock } from './clock';
import { FlinkModel, ModelOptions } from './model';
import { EmulatorServer } from './server';

export { VirtualClock } from './clock';
export { FlinkModel, FlinkRestError, Faults, DEFAULT_ENTRY_CLASS, hex32 } from './model';
export type { EmuJob, EmuTaskManager, ModelOptions, ProgramSpec, SchedulerKind, Timings, AppState } from './model';
export type { RateSpec } from './load';
export { rateAt, stepJobLoad } from './load';
export { EmulatorServer, javaDouble } from './server';
export type { RecordedExchange } from './server';
export { EMULATOR_VERSIONS, profileFor } from './profiles';
export type { EmulatorVersion } from './profiles';

export interface EmulatorOptions extends ModelOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Keep every request and response in `server.exchanges` (contract tests). */
  record?: boolean;
  /** Virtual clock tick (largest load-model step), ms. Default 1000. */
  tickMs?: number;
  /** Serve HTTPS with this PEM key and certificate instead of HTTP. */
  tls?: { key: string; cert: string };
}

export interface Emulator {
  url: string;
  model: FlinkModel;
  clock: VirtualClock;
  server: EmulatorServer;
  close(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const clock = opts.clock ?? new VirtualClock({ tickMs: opts.tickMs });
  const model = new FlinkModel({ ...opts, clock });
  const server = new EmulatorServer(model, { port: opts.port, record: opts.record, tls: opts.tls });
  const url = await server.listen();
  return { url, model, clock, server, close: () => server.close() };
}
export { SimulatedCapacityTarget } from './capacity';
export type { SimulatedCapacityOptions } from './capacity';
