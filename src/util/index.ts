// The bottom layer: what every layer uses and nothing of the project's domain. Imports nothing
// from the project.
export { Listeners } from './listeners.js';
export { consoleLoggerFor, type Logger } from './logger.js';
export { BASE64URL_PATTERN, fromBase64Url, toBase64Url } from './base64url.js';
export { sha256, sha256Into } from './sha256.js';
export { ID_PATTERN, isId } from './ids.js';
export { type Timers, globalTimers } from './timers.js';
export { nextMessageTurn } from './message-turn.js';
export { decodeAscii, decodeUtf8, decodeUtf8Lenient, encodeUtf8 } from './utf8.js';
