import { consoleLoggerFor } from '../util/logger.js';

/** Where the storage layer reports a listener that threw: a broken view must not break saving. */
export const storeLogger = consoleLoggerFor('store');
