// Runs inside a frame that carries the app's Content-Security-Policy and reports what worked.
import { LitElement, css, html } from 'lit';
import { Sha256Batch } from '../../src/util/sha256-batch.js';

class CspProbe extends LitElement {
  static override styles = css`
    p {
      color: rgb(1, 2, 3);
    }
  `;

  peerName = '';

  override render() {
    return html`<p>${this.peerName}</p>`;
  }
}
customElements.define('csp-probe', CspProbe);

const violations: string[] = [];
document.addEventListener('securitypolicyviolation', (event) => violations.push(event.violatedDirective));

function blocked(run: () => unknown): boolean {
  try {
    run();
    return false;
  } catch (error) {
    return error instanceof EvalError;
  }
}

const probe = document.createElement('csp-probe') as CspProbe;
probe.peerName = '<img src=x onerror="window.parent.postMessage(\'xss\', \'*\')">Mallory';
document.body.append(probe);
await probe.updateComplete;
const paragraph = probe.shadowRoot!.querySelector('p')!;
// Let a blocked inline script or handler report its violation first.
await new Promise((resolve) => setTimeout(resolve, 50));
parent.postMessage(
  {
    probe: 'csp',
    rendered: paragraph.textContent,
    injectedElements: paragraph.children.length,
    color: getComputedStyle(paragraph).color,
    adoptedSheets: probe.shadowRoot!.adoptedStyleSheets.length,
    evalBlocked: blocked(() => eval('1 + 1')),
    functionBlocked: blocked(() => new Function('return 1')()),
    inlineScriptRan: (window as unknown as { inlineRan?: boolean }).inlineRan === true,
    // Item hashing compiles its WebAssembly under the policy (or falls back to JavaScript).
    wasmHashing: new Sha256Batch(16).wasm,
    violations,
  },
  '*',
);
