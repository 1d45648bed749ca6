// Plain JavaScript with JSDoc types: the signaling server (Node, no build step) imports it too.

/**
 * Every id of the project — node, room, entity (oid) — is 1–64 of `[A-Za-z0-9_-]`: what `nanoid`
 * makes and UUIDs fit, URL-safe, and free of `:` (so `node:seq` keys are unambiguous). One pattern,
 * so the layers and the server agree on what an id is.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * True for a string `ID_PATTERN` accepts, except `__proto__` (ids key plain objects).
 * @param {unknown} value
 * @returns {value is string}
 */
export const isId = (value) => typeof value === 'string' && ID_PATTERN.test(value) && value !== '__proto__';
