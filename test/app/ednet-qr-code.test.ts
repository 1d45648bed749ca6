import { expect } from 'chai';
import { encode } from 'uqr';
import '../../src/app/ednet-qr-code.js';
import { qrCodePath } from '../../src/app/qr-code-path.js';
import { expectNone } from '../expectations.js';

/** The dark modules a path draws, read back from its `M x y h w v1 H x z` rectangles. */
function modulesOf(path: string, size: number): boolean[][] {
  const grid = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
  for (const [, x, y, w] of path.matchAll(/M(\d+) (\d+)h(\d+)v1H\d+z/g)) for (let i = 0; i < Number(w); i++) grid[Number(y)]![Number(x) + i] = true;
  return grid;
}

describe('QR codes', () => {
  const link = 'https://ednet.example/#/room/V1StGXR8_Z5jdHi6B-myT?k=-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s';

  it('draw exactly the modules of the encoded link, with a quiet zone', () => {
    const { size, path } = qrCodePath(link);
    const { data } = encode(link, { ecc: 'M', border: 4 });
    expect(size).to.equal(data.length);
    expect(modulesOf(path, size)).to.deep.equal(data);
    expectNone(data.slice(0, 4).flat(), Boolean);
    expect(path).to.match(/^(M\d+ \d+h\d+v1H\d+z)+$/);
  });

  it('render an SVG image whose markup never contains the text', async () => {
    const element = document.createElement('ednet-qr-code');
    element.text = `${link}"><img src=x onerror=alert(1)>`;
    element.label = 'QR code of the room link';
    document.body.append(element);
    await element.updateComplete;
    const svg = element.shadowRoot!.querySelector('svg')!;
    expect(svg.getAttribute('role')).to.equal('img');
    expect(svg.getAttribute('aria-label')).to.equal('QR code of the room link');
    expect(svg.namespaceURI).to.equal('http://www.w3.org/2000/svg');
    expect(element.shadowRoot!.querySelector('img')).to.equal(null);
    expect(svg.outerHTML).to.not.include('onerror');
    element.remove();
  });
});
