/** Thrown by a command whose work ended unsuccessfully after it printed its own report: runCli returns `exitCode`. */
export class CommandFailed extends Error {
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
    this.name = 'CommandFailed';
  }
}
