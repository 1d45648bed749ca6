/**
 * The app's Content-Security-Policy, as directives. Scripts only from the app's own origin: no
 * inline script, no `eval` or `new Function` (Lit needs neither); WebAssembly may be compiled. Styles only from the origin or
 * constructed stylesheets, which is how Lit's `static styles` are adopted, so no inline `<style>`
 * and no `style="…"` attributes in templates (use classes, or `styleMap`, which sets properties
 * through the CSSOM). `connect-src` allows WebSockets to the signaling server; WebRTC is not
 * governed by CSP.
 */
export const CONTENT_SECURITY_POLICY_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  // 'wasm-unsafe-eval' lets the page compile WebAssembly only (item hashing, `Sha256Batch`); script
  // evaluation (`eval`, `new Function`) stays refused.
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'style-src': ["'self'"],
  'connect-src': ["'self'", 'ws:', 'wss:'],
  'img-src': ["'self'", 'data:', 'blob:'],
  'worker-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/** Directives a `<meta http-equiv>` cannot carry; the server sends them as a header. */
export const HEADER_ONLY_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'frame-ancestors': ["'none'"],
};

const serialize = (directives: Readonly<Record<string, readonly string[]>>): string =>
  Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');

/** The policy for index.html's `<meta http-equiv="Content-Security-Policy">`. */
export const CONTENT_SECURITY_POLICY = serialize(CONTENT_SECURITY_POLICY_DIRECTIVES);

/** The policy for the `Content-Security-Policy` response header of the app's HTML. */
export const CONTENT_SECURITY_POLICY_HEADER = serialize({ ...CONTENT_SECURITY_POLICY_DIRECTIVES, ...HEADER_ONLY_DIRECTIVES });
