import { expect } from 'chai';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { VerificationBudget } from '../../src/sync/verification-budget.js';
import { testIdentities } from '../security/test-identities.js';
import { signedMember } from './signed-member.js';

describe('VerificationBudget', () => {
  it('allows a burst, then makes the next checks wait at the sustained rate', () => {
    let now = 0;
    const budget = new VerificationBudget({ perSecond: 100, burst: 50, now: () => now });
    expect(budget.spend(50)).to.equal(0);
    // 20 more checks at 100 per second: 200 ms of waiting.
    expect(budget.spend(20)).to.equal(200);
    now += 1_000;
    // A second later the debt is paid and the bucket is full again (capped at the burst).
    expect(budget.spend(50)).to.equal(0);
    expect(budget.spend(1)).to.equal(10);
  });

  it('refuses a configuration that could never refill', () => {
    expect(() => new VerificationBudget({ perSecond: 0 })).to.throw(RangeError);
  });
});

describe('the certificate checks a peer may cause', () => {
  const identities = testIdentities('verification-budget', ['alice', 'bob']);

  it('past its budget, a peer’s deltas wait for it to refill, and still apply', async () => {
    const network = new MemoryNetwork();
    const alice = signedMember(network, identities[0]!, { modelId: 'election' });
    // Forty edits in separate turns: forty certificates in alice's first delta to bob.
    for (let i = 0; i < 40; i++) {
      alice.model.createElection({ title: `Election ${i}` });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const slow = signedMember(network, identities[1]!, { modelId: 'election', engine: { verification: { perSecond: 100, burst: 10 } } });
    const started = performance.now();
    slow.engine.addConnection(await slow.transport.connect(alice.id));
    while (!slow.model.version.equals(alice.model.version)) await new Promise((resolve) => setTimeout(resolve, 5));
    // 30 checks over the burst at 100 per second: at least 300 ms (a slow machine only adds).
    expect(performance.now() - started).to.be.greaterThan(250);
    expect(slow.model.elections().count).to.equal(40);
    network.close();
  });
});
