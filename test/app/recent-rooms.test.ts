import { expect } from 'chai';
import { MAX_RECENT_ROOMS, RECENT_ROOMS_KEY, RecentRooms, type KeyValueStorage } from '../../src/app/recent-rooms.js';

const secret = 'aGVsbG8td29ybGQtMTIzNDU2Nzg5MA';

function memoryStorage(initial: Record<string, string> = {}): KeyValueStorage & { data: Record<string, string> } {
  const data = { ...initial };
  return { data, getItem: (key) => data[key] ?? null, setItem: (key, value) => void (data[key] = value) };
}

describe('RecentRooms', () => {
  it('list opened rooms newest first, keeping name and choice on reopen', () => {
    const rooms = new RecentRooms(memoryStorage());
    rooms.opened({ roomId: 'alpha', secret }, 'Board vote', 1000);
    rooms.opened({ roomId: 'beta', secret }, undefined, 2000);
    rooms.setWorkOffline('alpha', true);
    rooms.opened({ roomId: 'alpha', secret }, undefined, 3000);
    expect(rooms.list()).to.deep.equal([
      { roomId: 'alpha', secret, name: 'Board vote', lastOpened: 3000, workOffline: true },
      { roomId: 'beta', secret, name: 'Room beta', lastOpened: 2000, workOffline: false },
    ]);
  });

  it('rename and forget', () => {
    const rooms = new RecentRooms(memoryStorage());
    rooms.opened({ roomId: 'alpha', secret }, '  Club   AGM ', 1);
    expect(rooms.get('alpha')?.name).to.equal('Club AGM');
    rooms.rename('alpha', '   ');
    expect(rooms.get('alpha')?.name).to.equal('Room alpha');
    rooms.forget('alpha');
    expect(rooms.list()).to.deep.equal([]);
  });

  it('drop stored entries that do not parse, and survive garbage', () => {
    const good = { roomId: 'good', secret, name: 'Good', lastOpened: 5, workOffline: false };
    const storage = memoryStorage({
      [RECENT_ROOMS_KEY]: JSON.stringify([
        good,
        { ...good, roomId: 'bad id' },
        { ...good, roomId: 'short', secret: 'x' },
        { ...good, roomId: 'nodate', lastOpened: 'yesterday' },
        { ...good, roomId: 'noname', name: 42 },
        null,
        'text',
      ]),
    });
    expect(new RecentRooms(storage).list().map((room) => room.roomId)).to.deep.equal(['good', 'noname']);
    expect(new RecentRooms(storage).get('noname')?.name).to.equal('Room noname');
    expect(new RecentRooms(memoryStorage({ [RECENT_ROOMS_KEY]: '{not json' })).list()).to.deep.equal([]);
    expect(new RecentRooms(memoryStorage({ [RECENT_ROOMS_KEY]: '{"a":1}' })).list()).to.deep.equal([]);
  });

  it(`keep at most ${MAX_RECENT_ROOMS} rooms, forgetting the oldest`, () => {
    const rooms = new RecentRooms(memoryStorage());
    for (let i = 0; i < MAX_RECENT_ROOMS + 5; i++) rooms.opened({ roomId: `room${i}`, secret }, undefined, i);
    const list = rooms.list();
    expect(list.length).to.equal(MAX_RECENT_ROOMS);
    expect(list[0]!.roomId).to.equal(`room${MAX_RECENT_ROOMS + 4}`);
    expect(list.at(-1)!.roomId).to.equal('room5');
  });

  it('keep working when storage refuses writes or is missing', () => {
    const refusing: KeyValueStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
    };
    expect(new RecentRooms(refusing).opened({ roomId: 'alpha', secret }, 'A', 1).name).to.equal('A');
    expect(new RecentRooms(null).list()).to.deep.equal([]);
  });
});
