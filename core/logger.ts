/**
 * The logger port: what the server writes about itself (start, stop, lease changes,
 * failures nobody else sees). pino's shape, so the composition root hands in a pino
 * logger; one child per module (`child({ module })`), and `err` fields carry the stack.
 */

/** One log method: fields first (`err` for an error), then the message. */
export type LogMethod = (fields: Record<string, unknown>, message: string) => void;

/** A structured logger. Levels, lowest first: debug, info, warn, error. */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** A logger that adds `bindings` to every line (e.g. `{ module: "cluster" }`). */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether `level` is written: per-request lines check it once, so they cost nothing when off. */
  isLevelEnabled(level: LogLevel): boolean;
}

const ignore: LogMethod = () => {};

/** A logger that writes nothing: the default where none is given (tests of one part). */
export const silentLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};

/** The levels `COLINK_LOG_LEVEL` accepts, lowest first (`silent` writes nothing). */
export const logLevels = ["debug", "info", "warn", "error", "silent"] as const;

/** A level `COLINK_LOG_LEVEL` accepts. */
export type LogLevel = (typeof logLevels)[number];
