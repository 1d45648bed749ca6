import { LitElement, css, html } from 'lit';
import { qrCodePath } from './qr-code-path.js';

/** A QR code of `text` as an SVG image, with `label` as its accessible name. */
export class EDNetQrCode extends LitElement {
  static override properties = { text: {}, label: {} };
  static override styles = css`
    :host {
      display: inline-block;
      width: 100%;
      max-width: 240px;
    }
    svg {
      display: block;
      width: 100%;
      height: auto;
      /* Scanners need dark on light, whatever the page's colour scheme. */
      background: #ffffff;
      shape-rendering: crispEdges;
    }
  `;

  declare text: string;
  declare label: string;

  constructor() {
    super();
    this.text = '';
    this.label = 'QR code';
  }

  override render() {
    if (!this.text) return null;
    const { size, path } = qrCodePath(this.text);
    return html`<svg viewBox="0 0 ${size} ${size}" role="img" aria-label=${this.label}><path fill="#000000" d=${path}></path></svg>`;
  }
}

customElements.define('ednet-qr-code', EDNetQrCode);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-qr-code': EDNetQrCode;
  }
}
