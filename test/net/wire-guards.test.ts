import { expect } from 'chai';
import { randomToken } from '../../src/net/wire-guards.js';

describe('randomToken', () => {
  it('gives ids of the asked length from [A-Za-z0-9]', () => {
    for (const length of [1, 12, 16, 64]) expect(randomToken(length)).to.match(new RegExp(`^[A-Za-z0-9]{${length}}$`));
    expect(randomToken()).to.have.length(16);
  });

  it('makes every character equally likely (a byte modulo 62 would favour A–H by a quarter)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4_000; i++) for (const char of randomToken(50)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).to.equal(62);
    // 200,000 characters: about 3,226 each, with a standard deviation near 56; the mean of A–H
    // sits within a few tens of the rest's mean, while a modulo bias puts it about 780 above.
    const mean = (chars: string[]): number => chars.reduce((sum, char) => sum + (counts.get(char) ?? 0), 0) / chars.length;
    const all = [...counts.keys()];
    const favoured = all.filter((char) => 'ABCDEFGH'.includes(char));
    const rest = all.filter((char) => !'ABCDEFGH'.includes(char));
    expect(mean(favoured) / mean(rest), 'A–H against the rest').to.be.within(0.93, 1.07);
  });
});
