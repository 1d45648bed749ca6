// Everything only an open room shows, in one chunk that loads while a room opens (room-code.ts):
// the room page and its views, the one-time name question, the invitation sheet, and the room
// directory that reads and sets the room's shared name. The landing page needs none of it.
import './ednet-room-page.js';
import './ednet-name-dialog.js';
import './ednet-share-dialog.js';
export { canNameRoom, roomInfoOf, setRoomInfo } from '../models/electoral/room-directory.js';
