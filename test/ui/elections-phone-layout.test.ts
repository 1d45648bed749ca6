import { emulateMedia, setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import '../../src/ui/index.js';
import { electoral } from '../models/electoral/electoral-fixture.js';
import { axeViolations, fill, find, findAll, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';

const visible = (element: Element) => getComputedStyle(element).display !== 'none' && element.getBoundingClientRect().height > 1;
const popped = () => new Promise((resolve) => window.addEventListener('popstate', resolve, { once: true }));

describe('ednet-elections-view on a phone', () => {
  afterEach(async () => {
    unmountAll();
    await setViewport({ width: 1024, height: 768 });
    await emulateMedia({ colorScheme: 'light' });
  });

  it('opens an election on its own view, in view and focused; Back (the gesture too) returns to the list', async () => {
    await setViewport({ width: 390, height: 844 });
    const model = electoral('alice');
    for (let n = 1; n <= 5; n++) model.createElection({ title: `Election ${n}` });
    const view = await mount('ednet-elections-view', { model });
    const list = find(view, 'section.list');
    expect(visible(list)).to.equal(true);
    expect(visible(find(view, '.election-view'))).to.equal(false);
    const depth = history.length;
    findAll<HTMLButtonElement>(view, [], 'button.election')[3]!.click();
    await settle();
    expect(visible(list)).to.equal(false);
    expect(textOf(find(view, '#election-view-heading'))).to.equal('Election 4');
    expect(view.shadowRoot!.activeElement?.id).to.equal('election-view-heading');
    expect(find(view, '#election-view-heading').getBoundingClientRect().top).to.be.within(-1, 844);
    expect(history.length).to.equal(depth + 1);
    expect(await axeViolations(view)).to.deep.equal([]);
    const back = popped();
    history.back();
    await back;
    await settle();
    expect(visible(list)).to.equal(true);
    find<HTMLButtonElement>(view, '.back').click(); // harmless when already on the list
  });

  it('searches a long list and renders a page of it at a time', async () => {
    const model = electoral('alice');
    for (let n = 1; n <= 120; n++) model.createElection({ title: `Election ${n}` });
    const view = await mount('ednet-elections-view', { model });
    expect(findAll(view, [], 'button.election')).to.have.length(50);
    expect(textOf(find(view, '#election-count'))).to.equal('120 elections');
    fill(find<HTMLInputElement>(view, '#election-filter'), 'election 11');
    await settle();
    expect(findAll(view, [], 'button.election').map((button) => textOf(button).replace(/ Draft$/, ''))).to.deep.equal([
      'Election 11',
      'Election 110',
      'Election 111',
      'Election 112',
      'Election 113',
      'Election 114',
      'Election 115',
      'Election 116',
      'Election 117',
      'Election 118',
      'Election 119',
    ]);
    expect(textOf(find(view, '#election-count'))).to.equal('11 of 120 match');
  });

  it('has no axe violations on a phone in the dark colour scheme', async () => {
    await setViewport({ width: 390, height: 844 });
    await emulateMedia({ colorScheme: 'dark' });
    const model = electoral('alice');
    model.createElection({ title: 'Board' });
    const view = await mount('ednet-elections-view', { model });
    find<HTMLButtonElement>(view, 'button.election').click();
    await settle();
    expect(await axeViolations(view)).to.deep.equal([]);
  });
});
