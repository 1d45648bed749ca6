// The bottom layer: what every layer uses and nothing of the project's domain. Imports nothing
// from the project.
export { Listeners } from './listeners.js';
export { consoleLoggerFor, type Logger } from './logger.js';
