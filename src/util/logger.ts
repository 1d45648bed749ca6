/**
 * Where a layer reports refused input and recoverable failures. It never throws; `console` fits.
 * Every layer takes one of these, so a host can route all of them to one place.
 */
export interface Logger {
  warn(message: string, details?: unknown): void;
  debug?(message: string, details?: unknown): void;
}

/** Warnings to the console, prefixed `[<layer>]`; debug output dropped. */
export function consoleLoggerFor(layer: string): Logger {
  return {
    warn: (message, details) => {
      if (details === undefined) console.warn(`[${layer}] ${message}`);
      else console.warn(`[${layer}] ${message}`, details);
    },
  };
}
