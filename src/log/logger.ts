// Logging for a runtime that starts hundreds of times a minute.
//
// `--log FILE --log-format json` writes one JSON object per line in the shape containerd's shim
// and conmon parse: {"level":"error","msg":"…","time":"<RFC3339>"} (they report the msg of the
// last error line). `--log-format text` writes logrus-style lines like runc's. Without `--log`,
// errors go to stderr only. pino is imported on the first line actually logged, so a call that
// logs nothing (most successful calls) never pays for it.
import { describeSystemError } from '../errors.ts';
import { err } from '../io.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LoggerOptions {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
}

interface Entry {
  level: LogLevel;
  msg: string;
  time: string;
}

type Sink = (entries: Entry[]) => void;

export class Logger {
  private readonly options: LoggerOptions;
  private pending: Entry[] = [];
  private sink: Promise<Sink> | undefined;

  constructor(options: LoggerOptions) {
    this.options = options;
  }

  get debugEnabled(): boolean {
    return this.options.debug;
  }

  debug(msg: string): void {
    if (this.options.debug) this.add('debug', msg);
  }

  info(msg: string): void {
    this.add('info', msg);
  }

  warn(msg: string): void {
    this.add('warn', msg);
  }

  /** Errors are always written to stderr as plain text too: conmon forwards stderr to podman. */
  error(msg: string): void {
    err(`${msg}\n`);
    this.add('error', msg);
  }

  /**
   * Writes what is pending. Call before the process exits. A --log that cannot be written (a
   * read-only place, a missing folder) is said in one line on stderr, never a stack trace; the
   * command's own outcome stands.
   */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const entries = this.pending;
    this.pending = [];
    try {
      const sink = await (this.sink ??= this.openSink());
      sink(entries);
    } catch (e) {
      err(`--log ${this.options.file}: cannot write: ${describeSystemError(e)}\n`);
    }
  }

  private add(level: LogLevel, msg: string): void {
    // Without a log file only debug lines have somewhere to go (stderr); info/warn are dropped
    // like runc does without --log, errors were already printed.
    if (!this.options.file) {
      if (level === 'debug' || level === 'warn') err(`${level}: ${msg}\n`);
      return;
    }
    this.pending.push({ level, msg, time: new Date().toISOString() });
  }

  private async openSink(): Promise<Sink> {
    const file = this.options.file!;
    if (this.options.format === 'text') {
      const { appendFileSync } = await import('node:fs');
      return (entries) => {
        const text = entries.map((e) => `time="${e.time}" level=${e.level} msg=${JSON.stringify(e.msg)}\n`).join('');
        appendFileSync(file, text, { mode: 0o644 });
      };
    }
    // pino is CommonJS: in the bundle its namespace has it as `default`.
    const mod = await import('pino');
    const pino = (mod as unknown as { default: typeof mod.pino }).default ?? mod.pino;
    const destination = pino.destination({ dest: file, sync: true, append: true, mkdir: false });
    const log = pino(
      {
        level: 'debug',
        base: undefined,
        messageKey: 'msg',
        formatters: { level: (label: string) => ({ level: label }) },
        // The time is taken when the line is logged, not when it is written.
        timestamp: false,
      },
      destination,
    );
    return (entries) => {
      for (const e of entries) log[e.level]({ time: e.time }, e.msg);
      destination.flushSync();
    };
  }
}
