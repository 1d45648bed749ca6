/**
 * Where the net layer reports refused input and recoverable failures. It never throws; `console`
 * fits, and so does the sync layer's logger.
 */
export interface NetLogger {
  warn(message: string, details?: unknown): void;
  debug?(message: string, details?: unknown): void;
}

/** Writes warnings to the console with a `[net]` prefix and drops debug output. */
export const consoleLogger: NetLogger = {
  warn: (message, details) => {
    if (details === undefined) console.warn(`[net] ${message}`);
    else console.warn(`[net] ${message}`, details);
  },
};
