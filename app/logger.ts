/**
 * The server's logger: pino, JSON lines on stdout at `COLINK_LOG_LEVEL`. In a terminal
 * (stdout is a TTY) the lines are made readable by pino-pretty when it is installed (a
 * dev dependency); elsewhere, and always in production images, they stay JSON.
 */
import { createRequire } from "node:module";
import { pino } from "pino";
import type { Logger, LogLevel } from "../core/logger.js";

/** Whether pino-pretty can be loaded from here. */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("pino-pretty");
    return true;
  } catch {
    return false; // not installed (production image): JSON it is
  }
}

/** The root logger of this process (or worker thread); modules take `child({ module })`. */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  const pretty = process.stdout.isTTY === true && prettyInstalled();
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    ...(pretty ? { transport: { target: "pino-pretty", options: { colorize: true } } } : {}),
  });
}
