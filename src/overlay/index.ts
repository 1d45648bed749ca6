// The overlay layer: each room's partial mesh. HyParView picks the few peers each node keeps
// connected, the member roster counts who is in the room beyond them, and the router relays
// connection signals over existing connections (docs/protocol.md, "Overlay").
export { DEFAULT_HYPARVIEW_CONFIG, HyParView, type HyParViewConfig, type HyParViewIo } from './hyparview.js';
export { MemberRoster, type MemberRosterOptions, type RosterCounts } from './member-roster.js';
export {
  OVERLAY_FRAME_BYTE,
  OVERLAY_VERSION,
  decodeOverlayMessage,
  encodeOverlayMessage,
  isOverlayDecodeError,
  isOverlayFrame,
  type OverlayDecodeError,
  type OverlayMessage,
  type RosterEntry,
  type RouteMessage,
  type RoutedBody,
} from './overlay-message.js';
export { OverlayMux } from './overlay-mux.js';
export { OverlayRouter, type OverlayRouterOptions, type RouteDecision } from './overlay-router.js';
export { FallbackSignalingChannel, RelayedSignaling, type ServerSignaling, type SignalRelay } from './relayed-signaling.js';
export { RoomOverlay, type OverlayCounters, type OverlayPort, type OverlayStatus, type RoomOverlayOptions } from './room-overlay.js';
