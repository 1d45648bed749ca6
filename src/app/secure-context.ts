/** What the app needs from the page: a secure context, where browsers offer `crypto.subtle`. */
export interface PageSecurity {
  readonly isSecureContext: boolean;
  readonly hasSubtleCrypto: boolean;
  readonly location: { readonly protocol: string; readonly host: string; readonly port: string };
}

/**
 * Why the app cannot run on this page and what to do instead, in words, or null when it can.
 * Browsers give `crypto.subtle` (room keys, device keys), service workers and installation only
 * to secure pages: https, or http from localhost. Plain http from another address, the natural
 * first try from a phone on the same network, would otherwise fail deep inside a crypto call.
 */
export function insecureContextAdvice(page: PageSecurity): string | null {
  if (page.isSecureContext && page.hasSubtleCrypto) return null;
  const port = page.location.port ? `:${page.location.port}` : '';
  return (
    `This page was opened over plain ${page.location.protocol.replace(':', '')} from ${page.location.host}, which browsers do not treat as secure, ` +
    `so they withhold the encryption EDNet P2P needs to protect rooms. Open it over https instead ` +
    `(the server needs a certificate: see "Running it for devices on other networks" in the project's docs), ` +
    `or as http://localhost${port} on the computer that runs the server.`
  );
}

/** This page's security, as `insecureContextAdvice` reads it. */
export function currentPageSecurity(): PageSecurity {
  return { isSecureContext: globalThis.isSecureContext === true, hasSubtleCrypto: globalThis.crypto?.subtle !== undefined, location };
}
