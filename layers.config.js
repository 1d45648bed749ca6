// The layer rules of src/, written once. `npm test` checks every import against them
// (test/scripts/layer-rules.test.js) and checks that docs/architecture.md shows them
// (`npm run layers -- --write-docs` rewrites its table). Each folder of src/ is a layer; it may
// import the layers listed under `imports`, and only types (`import type`) from `types`.

/** @type {Record<string, { imports: string[], types?: string[], why: string }>} */
export const layers = {
  util: { imports: [], why: 'what every layer uses and nothing of the domain: the emitter, the logger and timers ports, ids, base64url, UTF-8, SHA-256, the next message turn' },
  protocol: { imports: ['util'], types: ['crdt'], why: 'the signaling frames, shared with the server (plain JavaScript)' },
  crdt: { imports: ['util'], why: 'pure CRDTs with an injected clock' },
  domain: { imports: ['util', 'crdt'], why: 'the meta-model and DomainModel' },
  models: { imports: ['util', 'crdt', 'domain'], why: 'declared models (the electoral one)' },
  net: { imports: ['util', 'protocol', 'crdt'], why: 'transport and discovery ports and their adapters' },
  overlay: { imports: ['util', 'crdt', 'net'], why: 'the room overlay (HyParView) over transports' },
  security: { imports: ['util', 'protocol', 'crdt', 'domain', 'net'], why: 'keys, sealed messages, authenticated connections, change certificates' },
  store: { imports: ['util', 'crdt', 'domain', 'security'], types: ['models'], why: 'the storage port, its adapters and persistence; IndexedDB adapters of ports a model declares (types from models)' },
  sync: { imports: ['util', 'crdt', 'domain', 'security'], types: ['net'], why: 'the synchronization engine; knows connections only by the transport port' },
  node: { imports: ['util', 'crdt', 'domain', 'net', 'overlay', 'security', 'store', 'sync'], why: 'EDNetP2PNode: one room’s node, wiring the layers below' },
  ui: { imports: ['util', 'domain', 'models', 'node'], types: ['crdt'], why: 'Lit views of a model; the network only through the node' },
  app: { imports: ['util', 'protocol', 'crdt', 'domain', 'models', 'net', 'overlay', 'security', 'store', 'sync', 'node', 'ui'], why: 'the PWA shell and the composition root that builds a room’s node' },
};

/** What the signaling server (signaling/, Node without a build step) may import of src/. */
export const server = ['protocol', 'util'];

/**
 * Imports that break the rules today, each with why it is still there. The check fails when one
 * of these is gone (remove it here) as much as when a new one appears.
 * @type {Array<{ from: string, to: string, why: string }>}
 */
export const exceptions = [];
