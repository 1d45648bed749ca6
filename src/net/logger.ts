import { consoleLoggerFor, type Logger } from '../util/logger.js';

/** The net layer's reports go to a `Logger`; the sync layer's fits too. */
export type NetLogger = Logger;

/** Writes warnings to the console with a `[net]` prefix and drops debug output. */
export const consoleLogger: NetLogger = consoleLoggerFor('net');
