import { encode } from 'uqr';

/** A QR code as one SVG path: `size` modules square (quiet zone included), dark modules as unit squares. */
export interface QrCodePath {
  readonly size: number;
  readonly path: string;
}

/**
 * Encodes `text` (medium error correction, a 4-module quiet zone as the standard asks) and draws
 * each run of dark modules in a row as one rectangle. The path holds only numbers and commands,
 * so it can be bound as an attribute; the text itself never reaches the markup.
 */
export function qrCodePath(text: string): QrCodePath {
  const { size, data } = encode(text, { ecc: 'M', border: 4 });
  let path = '';
  data.forEach((row, y) => {
    for (let x = 0; x < size; x++) {
      if (!row[x]) continue;
      const start = x;
      while (x + 1 < size && row[x + 1]) x++;
      path += `M${start} ${y}h${x - start + 1}v1H${start}z`;
    }
  });
  return { size, path };
}
