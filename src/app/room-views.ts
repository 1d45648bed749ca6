// What a room's first paint shows, in one chunk that loads while a room opens (room-code.ts): the
// room page with its status bar and the arrival screen, the one-time name question (asked on a
// device's first room), and the room directory that reads and sets the room's shared name. The
// landing page needs none of it. The views of the tabs (the elections tab too: a room link never
// opened here shows only the arrival screen) and the invitation sheet load when first shown.
import './ednet-room-page.js';
import './ednet-name-dialog.js';
export { canNameRoom, roomInfoOf, setRoomInfo } from '../models/electoral/room-directory.js';
