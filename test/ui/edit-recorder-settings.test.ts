import { expect } from 'chai';
import { ElectionRoles, setMemberName } from '../../src/models/electoral/index.js';
import { EditRecorder, type RecordedEdit } from '../../src/ui/shared/edit-recorder.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, nodeOf } from '../models/electoral/electoral-fixture.js';

const taskEnds = () => new Promise((resolve) => setTimeout(resolve));

describe('EditRecorder and settings', () => {
  it('does not record the device’s display name (its Member), which Ctrl+Z would otherwise unname for everyone', async () => {
    const model = electoral(nodeOf('alice'), fakeClock(), ElectionRoles.enforced);
    const edits: RecordedEdit[] = [];
    const recorder = new EditRecorder(model, (edit) => edits.push(edit), { notRecorded: ['Member'] });
    expect(setMemberName(model, 'Alice'), 'setMemberName changed the name').to.equal(true);
    await taskEnds();
    setMemberName(model, 'Alicia');
    await taskEnds();
    model.createElection({ title: 'Board' });
    await taskEnds();
    expect(edits.map((edit) => edit.label)).to.deep.equal(['Added election “Board”']);
    recorder.dispose();
  });
});
