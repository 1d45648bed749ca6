import { expect } from 'chai';
import {
  CONTENT_SECURITY_POLICY,
  CONTENT_SECURITY_POLICY_HEADER,
} from '../../src/security/content-security-policy.js';

interface ProbeReport {
  readonly rendered: string;
  readonly injectedElements: number;
  readonly color: string;
  readonly adoptedSheets: number;
  readonly evalBlocked: boolean;
  readonly functionBlocked: boolean;
  readonly inlineScriptRan: boolean;
  readonly wasmHashing: boolean;
  readonly violations: string[];
}

/** Loads `csp-probe.ts` in a frame under `policy` and returns its report. */
function runProbe(policy: string): Promise<ProbeReport> {
  const frame = document.createElement('iframe');
  const escaped = policy.replace(/"/g, '&quot;');
  frame.srcdoc = `<!doctype html><html><head>
    <meta http-equiv="Content-Security-Policy" content="${escaped}">
    <script>window.inlineRan = true</script>
    <script type="module" src="${new URL('./csp-probe.ts', import.meta.url).pathname}"></script>
    </head><body></body></html>`;
  return new Promise((resolve) => {
    const onMessage = (event: MessageEvent) => {
      if (event.source !== frame.contentWindow || event.data?.probe !== 'csp') return;
      window.removeEventListener('message', onMessage);
      frame.remove();
      resolve(event.data as ProbeReport);
    };
    window.addEventListener('message', onMessage);
    document.body.append(frame);
  });
}

describe('Content-Security-Policy', () => {
  it('allows no inline script and no eval, and limits connections to the origin and WebSockets', () => {
    const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    // 'wasm-unsafe-eval' lets the page compile WebAssembly (item hashing), not evaluate script.
    expect(directives.get('script-src')).to.deep.equal(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get('style-src')).to.deep.equal(["'self'"]);
    expect(directives.get('object-src')).to.deep.equal(["'none'"]);
    expect(directives.get('connect-src')).to.deep.equal(["'self'", 'ws:', 'wss:']);
    expect(directives.get('worker-src')).to.deep.equal(["'self'"]);
    expect(CONTENT_SECURITY_POLICY).not.to.match(/'unsafe-inline'|'unsafe-eval'|'unsafe-hashes'|frame-ancestors/);
    expect(CONTENT_SECURITY_POLICY_HEADER).to.equal(`${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`);
  });

  it('lets Lit render with adopted stylesheets and item hashing compile its WebAssembly, while inline script and eval are refused', async () => {
    const report = await runProbe(CONTENT_SECURITY_POLICY);
    expect(report.adoptedSheets).to.equal(1);
    expect(report.color).to.equal('rgb(1, 2, 3)');
    expect(report.rendered).to.equal('<img src=x onerror="window.parent.postMessage(\'xss\', \'*\')">Mallory');
    expect(report.injectedElements).to.equal(0);
    expect(report).to.include({ evalBlocked: true, functionBlocked: true, inlineScriptRan: false, wasmHashing: true });
  });

  it('is the policy index.html carries', async () => {
    const page = new DOMParser().parseFromString(await (await fetch('/index.html')).text(), 'text/html');
    const meta = page.querySelector('meta[http-equiv="Content-Security-Policy"]');
    expect(meta?.getAttribute('content')).to.equal(CONTENT_SECURITY_POLICY);
  });
});
