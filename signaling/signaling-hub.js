import { WebSocket } from 'ws';
import { ErrorCode, isRefusal, PROTOCOL_VERSION } from '../src/protocol/signaling-protocol.js';
import { decodeClientFrame } from './client-frames.js';
import { newChallenge, verifyDeviceProof } from './device-proof.js';
import { admitJoin } from './join-admission.js';
import { RateLimiter } from './rate-limiter.js';
import { announcedLimits } from './signaling-options.js';
import { isJoinRefused } from './room-bus.js';


/** Why a peer left a room, as `peer-left` frames say. */
export const LeaveReason = Object.freeze({
  /** It sent `leave`. */
  left: 'left',
  /** Its connection closed, or the server closed it for breaking the rules. */
  disconnected: 'disconnected',
  /** It stopped answering heartbeats. */
  heartbeatTimeout: 'heartbeat-timeout',
  /** It did not read what was sent to it, and its queue outgrew `maxBufferedBytes`. */
  tooSlow: 'too-slow',
  /** The same device joined again under that id on a new connection (it reloaded). */
  replaced: 'replaced',
});

/** Close codes the server uses (RFC 6455). */
export const CloseCode = Object.freeze({ goingAway: 1001, policy: 1008, internalError: 1011, tryAgainLater: 1013 });

/** Refusals recover at this pace: `maxRefusedFrames` per minute. */
const REFUSAL_WINDOW_MS = 60_000;
/** How long a closing connection may take to finish the closing handshake before it is cut. */
const CLOSE_GRACE_MS = 1000;

/** @typedef {import('./signaling-options.js').ResolvedSignalingOptions} ResolvedSignalingOptions */
/** @typedef {import('./client-frames.js').Refusal} Refusal */
/** @typedef {import('./room-bus.js').RoomBus} RoomBus */
/** @typedef {import('./room-bus.js').MemberEvent} MemberEvent */

/** One client WebSocket and what it is bound to: a peer id per room. */
class Connection {
  /**
   * @param {WebSocket} socket
   * @param {ResolvedSignalingOptions} options
   * @param {string} address where it connects from, as the per-address limit counts it
   */
  constructor(socket, options, address) {
    this.socket = socket;
    this.address = address;
    /** What this connection's `auth` must sign. */
    this.challenge = newChallenge();
    /** The device id it proved, once it did. @type {string | undefined} */
    this.deviceId = undefined;
    /** @type {Map<string, string>} room → this connection's peer id there */
    this.rooms = new Map();
    this.limiter = new RateLimiter({ perSecond: options.messagesPerSecond, burst: options.messageBurst, now: options.now });
    this.refusals = new RateLimiter({
      perSecond: (options.maxRefusedFrames * 1000) / REFUSAL_WINDOW_MS,
      burst: options.maxRefusedFrames,
      now: options.now,
    });
    /** Frames dropped for the rate since the last accepted one. */
    this.dropped = 0;
    this.missedHeartbeats = 0;
    this.gone = false;
    /** The room bus answers asynchronously: a connection's frames are handled one after another. */
    this.chain = Promise.resolve();
  }
}

/**
 * The rooms and the connections in them: introduces peers and relays their signals, stamping the
 * sender. Knows nothing of HTTP; `accept` takes sockets that are already open. Membership and
 * delivery go through a room bus (signaling/room-bus.js), in this process or shared by instances.
 */
export class SignalingHub {
  /** @param {ResolvedSignalingOptions} options @param {RoomBus} bus */
  constructor(options, bus) {
    this.options = options;
    this.bus = bus;
    /** @type {Map<string, Map<string, Connection>>} room → peer id → connection, of this instance */
    this.rooms = new Map();
    /** @type {Set<Connection>} */
    this.connections = new Set();
    /** @type {WeakMap<WebSocket, Connection>} */
    this.bySocket = new WeakMap();
    this.relayed = 0;
    this.refused = 0;
    this.rateDropped = 0;
    this.closing = false;
    this.limits = announcedLimits(options);
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  /**
   * Takes over an open WebSocket: greets it, then serves its frames until it closes.
   * @param {WebSocket} socket
   * @param {string} [address] where it connects from (see `clientAddress`)
   */
  accept(socket, address = 'unknown') {
    if (this.closing) {
      socket.close(CloseCode.goingAway, 'server shutting down');
      return;
    }
    const connection = new Connection(socket, this.options, address);
    this.connections.add(connection);
    this.bySocket.set(socket, connection);
    socket.on('message', (data, isBinary) => this.receive(connection, data, isBinary));
    socket.on('pong', () => {
      connection.missedHeartbeats = 0;
    });
    socket.on('close', () => this.drop(connection, LeaveReason.disconnected));
    // Protocol violations (bad UTF-8, frames past ws's payload cap) end here; `close` follows.
    socket.on('error', (error) => this.options.logger.debug?.('signaling socket error', error));
    this.send(connection, {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      limits: this.limits,
      challenge: connection.challenge,
      deviceProof: this.options.requireDeviceProof ? 'required' : 'optional',
    });
  }

  /** Closes a connection refused before it was served (a cap on connections). @param {WebSocket} socket @param {number} code @param {string} reason */
  refuseConnection(socket, code, reason) {
    socket.on('error', (error) => this.options.logger.debug?.('refused signaling socket error', error));
    void closeSocket(socket, code, reason);
  }

  /** Closes a connection that holds too much of the server's memory (a cap on unfinished messages). @param {WebSocket} socket @param {string} reason */
  refuseOverload(socket, reason) {
    const connection = this.bySocket.get(socket);
    if (connection) this.end(connection, CloseCode.tryAgainLater, reason, LeaveReason.disconnected);
    else if (socket.readyState === WebSocket.OPEN) void closeSocket(socket, CloseCode.tryAgainLater, reason);
  }

  /** Counts for monitoring and tests. */
  stats() {
    let memberships = 0;
    for (const members of this.rooms.values()) memberships += members.size;
    return {
      connections: this.connections.size,
      rooms: this.rooms.size,
      memberships,
      relayedSignals: this.relayed,
      refusedFrames: this.refused,
      rateLimitedFrames: this.rateDropped,
    };
  }

  /** Closes every connection (1001) and stops the heartbeat; resolves once all sockets are closed. */
  async close() {
    this.closing = true;
    clearInterval(this.heartbeat);
    const connections = [...this.connections];
    // Nobody here is told `peer-left`: everyone is leaving. Other instances are, through the bus.
    for (const connection of connections) connection.gone = true;
    this.connections.clear();
    await Promise.all(connections.map((connection) => connection.chain.then(() => this.leaveAll(connection, LeaveReason.disconnected))));
    this.rooms.clear();
    await Promise.all(connections.map((connection) => closeSocket(connection.socket)));
  }

  /**
   * @param {Connection} connection
   * @param {import('ws').RawData} data
   * @param {boolean} isBinary
   */
  receive(connection, data, isBinary) {
    if (connection.gone) return;
    connection.missedHeartbeats = 0;
    try {
      if (!connection.limiter.take()) {
        this.dropForRate(connection);
        return;
      }
      connection.dropped = 0;
      const frame = decodeClientFrame(data, isBinary, this.options.maxFrameBytes);
      if (isRefusal(frame)) {
        this.refuseMalformed(connection, frame);
        return;
      }
      switch (frame.type) {
        case 'join':
          this.enqueue(connection, () => this.join(connection, frame.room, frame.peer));
          break;
        case 'leave':
          this.enqueue(connection, () => this.leave(connection, frame.room));
          break;
        case 'signal':
          this.enqueue(connection, () => this.signal(connection, frame.room, frame.to, frame.data));
          break;
        case 'auth':
          this.authenticate(connection, frame.key, frame.signature);
          break;
        case 'ping':
          // Queued too: a pong proves every earlier frame of this connection was answered.
          this.enqueue(connection, () => this.send(connection, { type: 'pong' }));
          break;
      }
    } catch (error) {
      // A bug must cost one connection, never the process.
      this.options.logger.warn('unexpected error while handling a signaling frame; closing that connection', error);
      this.end(connection, CloseCode.internalError, 'internal error', LeaveReason.disconnected);
    }
  }

  /**
   * Runs `task` after the connection's earlier frames; a failure costs that connection only.
   * @param {Connection} connection
   * @param {() => unknown} task
   */
  enqueue(connection, task) {
    connection.chain = connection.chain.then(async () => void (await task())).catch((error) => {
      this.options.logger.warn('unexpected error while handling a signaling frame; closing that connection', error);
      this.end(connection, CloseCode.internalError, 'internal error', LeaveReason.disconnected);
    });
  }

  /**
   * @param {Connection} connection
   * @param {string} room
   * @param {string} peer
   */
  async join(connection, room, peer) {
    if (connection.gone) return;
    const current = connection.rooms.get(room);
    if (current === peer) {
      // A repeated join (the client retries after a refusal it could not place): say so again.
      const members = await this.bus.members(room);
      this.send(connection, { type: 'joined', room, peer, peers: members.filter((other) => other !== peer) });
      return;
    }
    if (current !== undefined) {
      this.refuse(connection, refusal(ErrorCode.alreadyJoined, `this connection is in room ${room} as ${current}; leave it first`, 'join'));
      return;
    }
    if (connection.rooms.size >= this.options.maxRoomsPerConnection) {
      this.refuse(connection, refusal(ErrorCode.tooManyRooms, `a connection may be in at most ${this.options.maxRoomsPerConnection} rooms`, 'join'));
      return;
    }
    // Device proof and per-address limits first (join-admission.js). They see the members on
    // this instance: with several instances the per-address limit counts per instance, and the
    // room's cap and id uniqueness are the bus's.
    const { requireDeviceProof, maxPeersPerAddress } = this.options;
    const local = this.rooms.get(room);
    const admission = admitJoin({ connection, peer, room, members: local, requireDeviceProof, maxPeersPerRoom: Infinity, maxPeersPerAddress });
    if ('code' in admission) {
      this.refuse(connection, refusal(admission.code, admission.message, 'join'));
      return;
    }
    // The same device proved itself again (a reload): its stale connection gives the id up.
    if (admission.replaces) await this.removeFrom(admission.replaces, room, LeaveReason.replaced);
    // Events that reach the inbox before `joined` is sent wait, so the client hears `joined` first.
    /** @type {MemberEvent[] | undefined} */
    let early = [];
    const inbox = (/** @type {MemberEvent} */ event) => (early ? early.push(event) : this.deliver(connection, room, peer, event));
    let result;
    try {
      result = await this.bus.join(room, peer, inbox);
    } catch (error) {
      this.options.logger.warn(`the room bus failed a join to ${room}`, error);
      this.refuse(connection, refusal(ErrorCode.unavailable, 'rooms are unavailable for now; try again', 'join'));
      return;
    }
    if (isJoinRefused(result)) {
      this.refuse(
        connection,
        result.refused === 'peer-id-taken'
          ? refusal(ErrorCode.peerIdTaken, `peer ${peer} is already in room ${room} on another connection`, 'join')
          : refusal(ErrorCode.roomFull, `room ${room} holds at most ${this.options.maxPeersPerRoom} peers`, 'join'),
      );
      return;
    }
    // Recorded even if the connection closed meanwhile: its queued `drop` then leaves the room.
    connection.rooms.set(room, peer);
    const members = this.rooms.get(room) ?? new Map();
    members.set(peer, connection);
    this.rooms.set(room, members);
    this.send(connection, { type: 'joined', room, peer, peers: result.peers });
    const waiting = early;
    early = undefined;
    for (const event of waiting) this.deliver(connection, room, peer, event);
  }

  /**
   * Sends what the bus delivered to a member, unless the member has left since.
   * @param {Connection} connection
   * @param {string} room
   * @param {string} peer
   * @param {MemberEvent} event
   */
  deliver(connection, room, peer, event) {
    if (connection.gone || connection.rooms.get(room) !== peer) return;
    switch (event.type) {
      case 'peer-joined':
        this.send(connection, { type: 'peer-joined', room, peer: event.peer });
        break;
      case 'peer-left':
        this.send(connection, { type: 'peer-left', room, peer: event.peer, reason: event.reason });
        break;
      case 'signal':
        this.send(connection, { type: 'signal', room, from: event.from, data: event.data });
        break;
      case 'evicted':
        // The client reconnects and joins again, which restores its presence.
        this.end(connection, CloseCode.tryAgainLater, `membership lost (${event.reason}); join again`, LeaveReason.disconnected);
        break;
    }
  }

  /**
   * Checks a device proof; once one passed, the connection may join under that device's ids only.
   * @param {Connection} connection
   * @param {string} key
   * @param {string} signature
   */
  authenticate(connection, key, signature) {
    const result = verifyDeviceProof(connection.challenge, { key, signature });
    if ('error' in result) {
      // Nothing honest fails this: count it with the malformed frames.
      this.refuseMalformed(connection, refusal(ErrorCode.authFailed, result.error, 'auth'));
      return;
    }
    if (connection.deviceId !== undefined && connection.deviceId !== result.deviceId) {
      this.refuse(connection, refusal(ErrorCode.authFailed, 'this connection already proved another device', 'auth'));
      return;
    }
    connection.deviceId = result.deviceId;
    this.send(connection, { type: 'authenticated', device: result.deviceId });
  }

  /**
   * @param {Connection} connection
   * @param {string} room
   */
  async leave(connection, room) {
    if (!connection.rooms.has(room)) {
      this.refuse(connection, refusal(ErrorCode.notInRoom, `not in room ${room}`, 'leave'));
      return;
    }
    await this.removeFrom(connection, room, LeaveReason.left);
  }

  /**
   * @param {Connection} connection
   * @param {string} room
   * @param {string} to
   * @param {unknown} data
   */
  async signal(connection, room, to, data) {
    const from = connection.rooms.get(room);
    if (from === undefined) {
      this.refuse(connection, refusal(ErrorCode.notInRoom, `join room ${room} before signaling in it`, 'signal'));
      return;
    }
    let delivered;
    try {
      // `from` comes from the sender's binding, never from the frame: nobody speaks as another peer.
      delivered = await this.bus.signal(room, from, to, data);
    } catch (error) {
      this.options.logger.warn(`the room bus failed a signal in ${room}`, error);
      this.refuse(connection, refusal(ErrorCode.unavailable, 'rooms are unavailable for now; try again', 'signal'));
      return;
    }
    if (!delivered) {
      this.refuse(connection, refusal(ErrorCode.unknownPeer, `no peer ${to} in room ${room}`, 'signal'));
      return;
    }
    this.relayed++;
  }

  /**
   * Answers a frame that was well-formed but cannot be done now (a full room, a taken id, a peer
   * that just left). Clients meet these in good faith, so they only cost their share of the rate.
   */
  refuse(/** @type {Connection} */ connection, /** @type {Refusal} */ refused) {
    this.refused++;
    this.send(connection, { type: 'error', ...refused });
  }

  /** Answers a malformed frame, and closes a connection that keeps sending them. */
  refuseMalformed(/** @type {Connection} */ connection, /** @type {Refusal} */ refused) {
    this.refuse(connection, refused);
    if (!connection.refusals.take()) {
      this.end(connection, CloseCode.policy, `too many malformed frames (last: ${refused.code})`, LeaveReason.disconnected);
    }
  }

  /**
   * Drops a frame over the rate. Only the first of a run is answered, so a flood is not echoed
   * back; a connection that goes on for another whole burst without slowing down is closed.
   * @param {Connection} connection
   */
  dropForRate(connection) {
    this.rateDropped++;
    connection.dropped++;
    const { messagesPerSecond, messageBurst } = this.options;
    if (connection.dropped === 1) {
      this.refused++;
      this.send(connection, {
        type: 'error',
        code: ErrorCode.rateLimited,
        message: `over ${messagesPerSecond} frames per second (burst ${messageBurst}); frames are dropped until you slow down`,
      });
    } else if (connection.dropped > messageBurst) {
      this.end(connection, CloseCode.policy, 'message rate exceeded', LeaveReason.disconnected);
    }
  }

  /** Sends a WebSocket ping to everyone; ends connections that missed two. */
  beat() {
    for (const connection of [...this.connections]) {
      if (connection.missedHeartbeats >= 2) {
        this.drop(connection, LeaveReason.heartbeatTimeout);
        connection.socket.terminate();
        continue;
      }
      connection.missedHeartbeats++;
      try {
        connection.socket.ping();
      } catch (error) {
        // The socket is closing; its `close` event does the cleanup.
        this.options.logger.debug?.('heartbeat ping failed', error);
      }
    }
  }

  /**
   * Forgets a connection and tells its rooms why it left. Idempotent.
   * @param {Connection} connection
   * @param {string} reason
   */
  drop(connection, reason) {
    if (connection.gone) return;
    connection.gone = true;
    this.connections.delete(connection);
    // After the frames already queued, so a join still in flight is undone too.
    this.enqueue(connection, () => this.leaveAll(connection, reason));
  }

  /** @param {Connection} connection @param {string} reason */
  async leaveAll(connection, reason) {
    await Promise.all([...connection.rooms.keys()].map((room) => this.removeFrom(connection, room, reason)));
  }

  /**
   * Closes a connection with a code and reason, removing it from its rooms at once.
   * @param {Connection} connection
   * @param {number} code
   * @param {string} reason
   * @param {string} leaveReason
   */
  end(connection, code, reason, leaveReason) {
    if (connection.gone) return;
    this.drop(connection, leaveReason);
    this.options.logger.info?.(`closing a signaling connection: ${reason}`);
    void closeSocket(connection.socket, code, reason);
  }

  /**
   * @param {Connection} connection
   * @param {string} room
   * @param {string} reason
   */
  async removeFrom(connection, room, reason) {
    const peer = connection.rooms.get(room);
    connection.rooms.delete(room);
    if (peer === undefined) return;
    const local = this.rooms.get(room);
    if (local?.get(peer) === connection) {
      local.delete(peer);
      if (local.size === 0) this.rooms.delete(room);
    }
    try {
      await this.bus.leave(room, peer, reason);
    } catch (error) {
      // The Redis bus's presence expires; the room hears `peer-left` then.
      this.options.logger.warn(`the room bus failed a leave from ${room}`, error);
    }
  }

  /** @param {Connection} connection @param {object} frame */
  send(connection, frame) {
    this.sendText(connection, JSON.stringify(frame));
  }

  /** @param {Connection} connection @param {string} text */
  sendText(connection, text) {
    const socket = connection.socket;
    if (socket.readyState !== WebSocket.OPEN) return;
    // A peer that does not read must not make the server hold its frames without bound.
    if (socket.bufferedAmount + Buffer.byteLength(text) > this.options.maxBufferedBytes) {
      this.drop(connection, LeaveReason.tooSlow);
      socket.terminate();
      return;
    }
    socket.send(text);
  }
}

/** @returns {Refusal} */
function refusal(/** @type {string} */ code, /** @type {string} */ message, /** @type {string} */ ref) {
  return { code, message, ref };
}

/**
 * Closes with a handshake, cutting the socket if the peer does not answer in time.
 * @param {WebSocket} socket
 * @param {number} [code]
 * @param {string} [reason]
 * @returns {Promise<void>}
 */
function closeSocket(socket, code = CloseCode.goingAway, reason = 'server shutting down') {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close(code, reason);
  });
}
