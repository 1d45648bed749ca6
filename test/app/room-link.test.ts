import { expect } from 'chai';
import { parsePastedRoomLink, parseRoomLink, roomLink, routeFromHash } from '../../src/app/room-link.js';
import { createRoom } from '../../src/app/create-room.js';

const room = { roomId: 'V1StGXR8_Z5jdHi6B-myT', secret: 'aGVsbG8td29ybGQtMTIzNDU2Nzg5MA' };

describe('room links', () => {
  it('put the room id and secret only in the fragment', () => {
    const link = new URL(roomLink('https://ednet.example/app/?utm=1#old', room));
    expect(link.origin + link.pathname).to.equal('https://ednet.example/app/');
    expect(link.search).to.equal('');
    expect(link.hash).to.equal(`#/room/${room.roomId}?k=${room.secret}`);
  });

  it('round-trip through parseRoomLink', () => {
    const link = new URL(roomLink('https://ednet.example/', room));
    expect(parseRoomLink(link.hash)).to.deep.equal({ ok: true, room });
  });

  it('refuse to build a link for a malformed room', () => {
    expect(() => roomLink('https://ednet.example/', { ...room, roomId: 'a b' })).to.throw(TypeError);
    expect(() => roomLink('https://ednet.example/', { ...room, secret: 'short' })).to.throw(TypeError);
  });

  for (const [hash, words] of [
    ['', 'not a room link'],
    ['#/room/abc', 'not a room link'],
    [`#/room/${room.roomId}?k=${room.secret}&x=1`, 'not a room link'],
    [`#/room/${room.roomId}?key=${room.secret}`, 'not a room link'],
    [`#/room/${room.roomId}/extra?k=${room.secret}`, 'not a room link'],
    [`#/room/?k=${room.secret}`, 'room id'],
    [`#/room/a%20b?k=${room.secret}`, 'room id'],
    [`#/room/${'x'.repeat(65)}?k=${room.secret}`, 'room id'],
    [`#/room/${room.roomId}?k=`, 'no key'],
    [`#/room/${room.roomId}?k=tooShort`, 'damaged'],
    [`#/room/${room.roomId}?k=${room.secret}=`, 'damaged'],
    [`#/room/${room.roomId}?k=${'a'.repeat(87)}`, 'damaged'],
    [`#/room/${room.roomId}?k=${'a'.repeat(25)}`, 'damaged'],
  ] as const) {
    it(`reject ${JSON.stringify(hash)} with a message`, () => {
      const result = parseRoomLink(hash);
      expect(result).to.include({ ok: false });
      if (!result.ok) expect(result.error).to.include(words);
    });
  }

  it('parse a pasted whole link from any http(s) host, or a bare fragment', () => {
    expect(parsePastedRoomLink(`  https://other.example/x#/room/${room.roomId}?k=${room.secret}\n`)).to.deep.equal({ ok: true, room });
    expect(parsePastedRoomLink(`#/room/${room.roomId}?k=${room.secret}`)).to.deep.equal({ ok: true, room });
    for (const [text, words] of [
      ['', 'Paste'],
      ['not a link', 'not a link'],
      [`javascript:alert(1)#/room/${room.roomId}?k=${room.secret}`, 'https://'],
      ['https://ednet.example/', 'no room'],
    ] as const) {
      const result = parsePastedRoomLink(text);
      expect(result, text).to.include({ ok: false });
      if (!result.ok) expect(result.error).to.include(words);
    }
  });

  it('route fragments to the landing page, a room, or an error', () => {
    expect(routeFromHash('')).to.deep.equal({ page: 'landing' });
    expect(routeFromHash('#/')).to.deep.equal({ page: 'landing' });
    expect(routeFromHash(`#/room/${room.roomId}?k=${room.secret}`)).to.deep.equal({ page: 'room', room });
    expect(routeFromHash('#/rooms').page).to.equal('invalid');
  });
});

describe('new rooms', () => {
  it('get a nanoid room id and a 256-bit base64url secret that make a valid link', () => {
    const created = createRoom();
    expect(created.roomId).to.match(/^[A-Za-z0-9_-]{21}$/);
    expect(created.secret).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(parseRoomLink(new URL(roomLink('https://ednet.example/', created)).hash)).to.deep.equal({ ok: true, room: created });
    expect(createRoom().secret).to.not.equal(created.secret);
  });
});
