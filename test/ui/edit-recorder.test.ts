import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import '../../src/app/ednet-undo-toast.js';
import { EditRecorder, type RecordedEdit } from '../../src/ui/shared/edit-recorder.js';
import { electoral, sync } from '../models/electoral/electoral-fixture.js';
import { mount, settle, unmountAll } from './ui-test-helpers.js';

/** Alice's model with a recorder; `edits` fills as her actions end (each in its own task). */
function recorded() {
  const model = electoral('alice');
  const edits: RecordedEdit[] = [];
  const recorder = new EditRecorder(model, (edit) => edits.push(edit));
  return { model, edits, recorder };
}

const taskEnds = () => new Promise((resolve) => setTimeout(resolve));

describe('EditRecorder', () => {
  it('records one entry per action, in words, and undoes it whole with ordinary edits that reach a peer', async () => {
    const { model, edits } = recorded();
    const bob = electoral('bob');
    const election = model.createElection({ title: 'Board' });
    await taskEnds();
    const ann = model.addCandidate(election.oid, { name: 'Ann' });
    await taskEnds();
    model.update(election.oid, { title: 'Board 2027', description: 'Yearly' });
    await taskEnds();
    model.removeCandidate(election.oid, ann.oid);
    await taskEnds();
    expect(edits.map((edit) => [edit.label, edit.deletion])).to.deep.equal([
      ['Added election “Board”', false],
      ['Added candidate “Ann”', false],
      ['Changed title, description of election “Board 2027”', false],
      ['Deleted candidate “Ann”', true],
    ]);
    sync(model, bob);
    expect(bob.get(ann.oid)).to.equal(undefined);

    // Newest first, as Ctrl+Z takes them: the withdrawal (deleted and off the election) comes back whole.
    edits[3]!.undo();
    expect(model.candidates(election.oid).map((candidate) => candidate.oid)).to.deep.equal([ann.oid]);
    expect(model.get(election.oid)!.childOids('candidates')).to.deep.equal([ann.oid]);
    edits[2]!.undo();
    expect(model.get(election.oid)!.getAttribute('title')).to.equal('Board');
    expect(model.get(election.oid)!.getAttribute('description') ?? null).to.equal(null);
    sync(model, bob);
    expect(bob.get(election.oid)!.getAttribute('title')).to.equal('Board');
    expect(bob.candidates(election.oid).map((candidate) => candidate.oid)).to.deep.equal([ann.oid]);
    edits[1]!.undo();
    expect(model.get(ann.oid)).to.equal(undefined);
    expect(model.get(election.oid)!.childOids('candidates')).to.deep.equal([]);
    // Undoing is not itself recorded.
    await taskEnds();
    expect(edits).to.have.length(4);
  });

  it('does not record edits from peers, nor actions with managed writes (a ballot, an opening)', async () => {
    const { model, edits } = recorded();
    const bob = electoral('bob');
    bob.createElection({ title: 'Board' });
    sync(bob, model);
    await taskEnds();
    expect(edits).to.deep.equal([]);
    const mine = model.createElection({ title: 'Mine' });
    model.addCandidate(mine.oid, { name: 'Ann' });
    await taskEnds();
    expect(edits).to.have.length(1);
    model.openElection(mine.oid);
    await taskEnds();
    expect(edits).to.have.length(1);
  });

  it('stops recording once disposed', async () => {
    const { model, edits, recorder } = recorded();
    recorder.dispose();
    model.createElection({ title: 'Board' });
    await taskEnds();
    expect(edits).to.deep.equal([]);
  });
});

describe('ednet-undo-toast stack', () => {
  afterEach(unmountAll);

  it('takes back the newest edit first on Ctrl+Z and Cmd+Z, but not while typing in a text field', async () => {
    const undone: string[] = [];
    const toast = await mount('ednet-undo-toast');
    const input = document.createElement('input');
    document.body.append(input);
    try {
      for (const label of ['First', 'Second', 'Third']) toast.push({ label, undo: () => undone.push(label) }, false);
      expect(toast.depth).to.equal(3);
      input.focus();
      await sendKeys({ press: 'Control+z' });
      expect(undone).to.deep.equal([]);
      input.blur();
      await sendKeys({ press: 'Control+z' });
      await sendKeys({ press: 'Meta+z' });
      expect(undone).to.deep.equal(['Third', 'Second']);
      await settle();
      expect(toast.shadowRoot!.textContent).to.include('Undone: second.');
      expect(toast.undoLast(), 'undoLast with an edit left').to.equal(true);
      expect(toast.undoLast(), 'undoLast with nothing left').to.equal(false);
      expect(undone).to.deep.equal(['Third', 'Second', 'First']);
    } finally {
      input.remove();
    }
  });

  it('shows a deletion with its Undo button; a later edit hides it, so the button never undoes something else', async () => {
    const undone: string[] = [];
    const toast = await mount('ednet-undo-toast');
    toast.push({ label: 'Deleted candidate “Ann”', undo: () => undone.push('ann') });
    await settle();
    expect(toast.shadowRoot!.textContent).to.include('Deleted candidate “Ann”');
    toast.push({ label: 'Changed title of election “Board”', undo: () => undone.push('title') }, false);
    await settle();
    expect(toast.shadowRoot!.querySelector('button')).to.equal(null);
    toast.undoLast();
    expect(undone).to.deep.equal(['title']);
  });

  it('says when an undo could not be done', async () => {
    const toast = await mount('ednet-undo-toast');
    toast.push({
      label: 'Deleted candidate “Ann”',
      undo: () => {
        throw new Error('candidates can only be added while the election is a draft');
      },
    });
    toast.undoLast();
    await settle();
    expect(toast.shadowRoot!.textContent).to.include('Could not undo: candidates can only be added while the election is a draft');
  });
});
