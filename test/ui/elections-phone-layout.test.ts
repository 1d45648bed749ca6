import { emulateMedia, sendKeys, setViewport } from '@web/test-runner-commands';
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
    expect(visible(list), 'the list is visible').to.equal(true);
    expect(visible(find(view, '.election-view')), 'the election view is visible with the list').to.equal(false);
    const depth = history.length;
    findAll<HTMLButtonElement>(view, [], 'button.election')[3]!.click();
    await settle();
    expect(visible(list), 'the list is visible with an election open').to.equal(false);
    expect(textOf(find(view, '#election-view-heading'))).to.equal('Election 4');
    expect(view.shadowRoot!.activeElement?.id).to.equal('election-view-heading');
    expect(find(view, '#election-view-heading').getBoundingClientRect().top).to.be.within(-1, 844);
    expect(history.length).to.equal(depth + 1);
    expect(await axeViolations(view)).to.deep.equal([]);
    const back = popped();
    history.back();
    await back;
    await settle();
    expect(visible(list), 'the list is visible after Back').to.equal(true);
    find<HTMLButtonElement>(view, '.back').click(); // harmless when already on the list
  });

  it('renders only the elections in view of 400, finds one far down, and shows the one chosen however far down', async () => {
    await setViewport({ width: 1280, height: 800 });
    const model = electoral('alice');
    const ids: string[] = [];
    for (let n = 1; n <= 400; n++) ids.push(model.createElection({ title: `Election ${n}` }).oid);
    const view = await mount('ednet-elections-view', { model });
    const rows = () => findAll(view, [], 'button.election');
    expect(rows().length).to.be.within(5, 60);
    expect(textOf(find(view, '#election-count'))).to.equal('400 elections');
    // Every row says where it stands in the whole list.
    expect(findAll(view, [], 'li.election-row')[0]!.getAttribute('aria-setsize')).to.equal('400');

    fill(find<HTMLInputElement>(view, '#election-filter'), 'election 39');
    await settle();
    expect(rows().map((button) => textOf(button).replace(/ Draft$/, ''))).to.deep.equal([
      'Election 39',
      ...Array.from({ length: 10 }, (_, i) => `Election ${390 + i}`),
    ]);
    expect(textOf(find(view, '#election-count'))).to.equal('11 of 400 match');

    fill(find<HTMLInputElement>(view, '#election-filter'), '');
    await settle();
    // Chosen from outside (a link, another view): the list scrolls to it, and it is marked.
    view.electionId = ids[319];
    await settle();
    await settle();
    const chosen = find(view, 'button.election[aria-current="true"]');
    expect(textOf(chosen)).to.contain('Election 320');
    const list = find(view, 'ednet-virtual-list').getBoundingClientRect();
    const row = chosen.getBoundingClientRect();
    expect(row.top).to.be.at.least(list.top - 1);
    expect(row.bottom).to.be.at.most(list.bottom + 1);
    expect(rows().length).to.be.within(5, 60);
    // Beside the list, the election needs no way back: none is focusable unseen.
    expect(getComputedStyle(find(view, '.back')).display).to.equal('none');

    // Scrolling the list moves the window of rows; the DOM stays bounded.
    const scroller = find(view, 'ednet-virtual-list');
    scroller.scrollTop = scroller.scrollHeight;
    await settle();
    await settle();
    expect(textOf(rows().at(-1)!)).to.contain('Election 400');
    expect(rows().length).to.be.within(5, 60);
    // A search from down there shows its matches from the first (the scroll position was clamped).
    fill(find<HTMLInputElement>(view, '#election-filter'), 'election 1');
    await settle();
    await settle();
    expect(textOf(rows()[0]!)).to.contain('Election 1 ');
  });

  it('moves between elections with the arrow keys, End and Home, past the rows rendered', async () => {
    const model = electoral('alice');
    for (let n = 1; n <= 200; n++) model.createElection({ title: `Election ${n}` });
    const view = await mount('ednet-elections-view', { model });
    findAll<HTMLButtonElement>(view, [], 'button.election')[0]!.focus();
    await sendKeys({ press: 'ArrowDown' });
    await settle();
    expect(textOf(view.shadowRoot!.activeElement!)).to.contain('Election 2');
    await sendKeys({ press: 'End' });
    await settle();
    await settle();
    expect(textOf(view.shadowRoot!.activeElement!)).to.contain('Election 200');
    await sendKeys({ press: 'Home' });
    await settle();
    await settle();
    expect(textOf(view.shadowRoot!.activeElement!)).to.contain('Election 1 ');
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
