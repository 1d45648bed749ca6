import { setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import '../../src/ui/index.js';
import { electoral } from '../models/electoral/electoral-fixture.js';
import { eventually } from '../eventually.js';
import { fill, find, findAll, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';

describe('ednet-virtual-list growing again', () => {
  afterEach(async () => {
    unmountAll();
    await setViewport({ width: 1024, height: 768 });
  });

  it('fills its whole height with rows when a search that matched one is cleared (phone, 400 elections)', async () => {
    await setViewport({ width: 390, height: 844 });
    const model = electoral('alice');
    for (let n = 1; n <= 400; n++) model.createElection({ title: `Election ${n}` });
    const view = await mount('ednet-elections-view', { model });
    const filter = find<HTMLInputElement>(view, '#election-filter');
    fill(filter, '320');
    await settle();
    expect(findAll(view, [], 'button.election').map(textOf)).to.have.length(1);
    fill(filter, '');
    await settle();
    const list = find(view, 'ednet-virtual-list');
    // The rows rendered reach the list's bottom edge: no blank area where rows should be.
    const covered = () => {
      const rows = findAll(view, [], 'li.election-row');
      return rows.length > 0 && rows.at(-1)!.getBoundingClientRect().bottom >= list.getBoundingClientRect().bottom - 1;
    };
    await eventually(covered, 'rows down to the bottom of the list');
    expect(list.getBoundingClientRect().height).to.be.greaterThan(300);
  });
});
