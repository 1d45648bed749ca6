import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { JoinRefusal } from './room-bus.js';

/** @typedef {import('./room-bus.js').RoomBus} RoomBus */
/** @typedef {import('./room-bus.js').MemberInbox} MemberInbox */
/** @typedef {import('./room-bus.js').MemberEvent} MemberEvent */
/** @typedef {import('./signaling-options.js').SignalingLogger} SignalingLogger */

/**
 * Options of `RedisRoomBus`.
 * @typedef {object} RedisRoomBusOptions
 * @property {string} url e.g. `redis://127.0.0.1:6379`.
 * @property {number} maxPeersPerRoom
 * @property {number} [presenceTtlMs] A member whose instance stops refreshing it is removed this long after the last refresh. Default 15 s.
 * @property {string} [keyPrefix] Default `ednet:signaling:`.
 * @property {SignalingLogger} logger
 */

/** Room events older than this are gone from Redis; the sequence key of an empty room lives as long. */
const SEQUENCE_LIFETIME_MS = 24 * 3600 * 1000;
/** A Redis command that takes longer fails, so a join is refused instead of hanging. */
const COMMAND_TIMEOUT_MS = 5000;

// Every script works on one room's keys, named by a `{room}` hash tag so that they share a cluster
// slot: KEYS[1] members (sorted set, score = presence expiry in ms of Redis's clock), KEYS[2] where
// (hash: peer → instance), KEYS[3] sequence (counter of room events), KEYS[4] the room's channel.
// Scripts run atomically, so caps and id uniqueness hold across instances, and every room event
// gets its sequence number in the order Redis applied it.
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function publish(event)
  event.seq = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ${SEQUENCE_LIFETIME_MS})
  redis.call('PUBLISH', KEYS[4], cjson.encode(event))
end
local function reap()
  local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
  for _, peer in ipairs(dead) do
    redis.call('ZREM', KEYS[1], peer)
    redis.call('HDEL', KEYS[2], peer)
    publish({ type = 'peer-left', peer = peer, reason = 'heartbeat-timeout' })
  end
  return #dead
end
`;

/** ARGV: peer, instance, ttl, max peers → {'taken'} | {'full'} | {'ok', seq, peers}. */
const JOIN = `${PRELUDE}
reap()
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {'taken'} end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return {'full'} end
local peers = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
publish({ type = 'peer-joined', peer = ARGV[1] })
return {'ok', redis.call('GET', KEYS[3]), peers}
`;

/** ARGV: peer, instance, reason → 1 if it was this instance's member. */
const LEAVE = `${PRELUDE}
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
publish({ type = 'peer-left', peer = ARGV[1], reason = ARGV[3] })
return 1
`;

/** ARGV: to, instance channel prefix, message → 1 if published to the instance holding \`to\`. */
const SIGNAL = `${PRELUDE}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then return 0 end
local instance = redis.call('HGET', KEYS[2], ARGV[1])
if not instance then return 0 end
redis.call('PUBLISH', ARGV[2] .. instance, ARGV[3])
return 1
`;

/** ARGV: instance, ttl, peers... → the peers this instance no longer holds. Then removes expired members. */
const REFRESH = `${PRELUDE}
local lost = {}
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] and redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
reap()
return lost
`;

/** → the live members. */
const MEMBERS = `${PRELUDE}
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
`;

/**
 * One local member: its inbox, and the sequence number of its join once known. Until then events
 * wait in `early`, since the join's answer and the room's events travel on different connections.
 * @typedef {{ inbox: MemberInbox, joinSeq: number | undefined, early: { seq: number | undefined, event: MemberEvent }[] }} Member
 */

/**
 * A room bus shared by every signaling instance that uses the same Redis: membership in Redis
 * (updated by Lua scripts, so atomic across instances), room events on one pub/sub channel per
 * room, signals on one channel per instance. Each instance refreshes its members' presence every
 * third of `presenceTtlMs`; when an instance dies, its members expire and whichever instance next
 * touches the room removes them and tells the room `peer-left` (`heartbeat-timeout`).
 * @implements {RoomBus}
 */
export class RedisRoomBus {
  /** @param {RedisRoomBusOptions} options */
  constructor({ url, maxPeersPerRoom, presenceTtlMs = 15_000, keyPrefix = 'ednet:signaling:', logger }) {
    this.maxPeersPerRoom = maxPeersPerRoom;
    this.presenceTtlMs = presenceTtlMs;
    this.prefix = keyPrefix;
    this.logger = logger;
    this.closed = false;
    this.instance = randomUUID();
    this.instanceChannel = `${keyPrefix}instance:${this.instance}`;
    const options = {
      commandTimeout: COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 2,
      lazyConnect: true,
      // Reconnects with backoff while open; a closed bus must not keep the process alive.
      retryStrategy: (/** @type {number} */ times) => (this.closed ? null : Math.min(times * 200, 2000)),
    };
    this.commands = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, commandTimeout: undefined });
    for (const [name, client] of [['commands', this.commands], ['subscriber', this.subscriber]]) {
      // ioredis reconnects by itself; errors are reported, never thrown out of the event.
      /** @type {import('ioredis').Redis} */ (client).on('error', (error) => this.reportRedisError(`${name}`, error));
    }
    this.lastErrorLog = 0;
    for (const [name, lua, keys] of /** @type {const} */ ([
      ['ednetJoin', JOIN, 4],
      ['ednetLeave', LEAVE, 4],
      ['ednetSignal', SIGNAL, 4],
      ['ednetRefresh', REFRESH, 4],
      ['ednetMembers', MEMBERS, 4],
    ])) {
      this.commands.defineCommand(name, { numberOfKeys: keys, lua });
    }
    /** @type {Map<string, Map<string, Member>>} room → peer → member, for members of this instance */
    this.local = new Map();
    /** @type {Map<string, string>} channel → room, for rooms subscribed to */
    this.channels = new Map();
    /** @type {Map<string, Promise<unknown>>} room → its subscription */
    this.subscriptions = new Map();
    this.subscriber.on('message', (channel, message) => this.receive(channel, message));
    this.refreshTimer = setInterval(() => void this.refresh(), Math.max(1, Math.floor(presenceTtlMs / 3)));
    this.refreshTimer.unref();
    this.started = this.start();
    // Reported by `ready`; unobserved here so a failed start is not an unhandled rejection.
    this.started.catch(() => undefined);
  }

  async start() {
    await Promise.all([this.commands.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(this.instanceChannel);
  }

  ready() {
    return this.started;
  }

  /** @param {string} room @param {string} peer @param {MemberInbox} inbox */
  async join(room, peer, inbox) {
    const members = this.local.get(room) ?? new Map();
    // Held (or being joined) by another connection of this instance.
    if (members.has(peer)) return { refused: JoinRefusal.peerIdTaken };
    /** @type {Member} */
    const member = { inbox, joinSeq: undefined, early: [] };
    members.set(peer, member);
    this.local.set(room, members);
    try {
      // Subscribed before the join takes effect, so no later event of the room is missed.
      await this.subscribe(room);
      const answer = /** @type {any} */ (await this.run('ednetJoin', room, [peer, this.instance, this.presenceTtlMs, this.maxPeersPerRoom]));
      if (answer[0] !== 'ok') {
        this.forget(room, peer, member);
        return { refused: answer[0] === 'taken' ? JoinRefusal.peerIdTaken : JoinRefusal.roomFull };
      }
      member.joinSeq = Number(answer[1]);
      const peers = /** @type {string[]} */ (answer[2]);
      for (const { seq, event } of member.early.splice(0)) this.deliver(member, seq, event);
      return { peers };
    } catch (error) {
      this.forget(room, peer, member);
      throw error;
    }
  }

  /** @param {string} room @param {string} peer @param {string} reason */
  async leave(room, peer, reason) {
    const member = this.local.get(room)?.get(peer);
    if (!member) return;
    this.forget(room, peer, member);
    await this.run('ednetLeave', room, [peer, this.instance, reason]);
  }

  /** @param {string} room @param {string} from @param {string} to @param {unknown} data */
  async signal(room, from, to, data) {
    const message = JSON.stringify({ room, to, from, data });
    const published = await this.run('ednetSignal', room, [to, `${this.prefix}instance:`, message]);
    return published === 1;
  }

  /** @param {string} room */
  async members(room) {
    return /** @type {string[]} */ (await this.run('ednetMembers', room, []));
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.refreshTimer);
    const leaving = [];
    for (const [room, members] of this.local) for (const peer of members.keys()) leaving.push(this.leave(room, peer, 'disconnected'));
    await Promise.allSettled(leaving);
    const quits = await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    // A client that could not say goodbye (never connected, or Redis gone) is cut instead.
    if (quits[0].status === 'rejected') this.commands.disconnect();
    if (quits[1].status === 'rejected') this.subscriber.disconnect();
  }

  /**
   * Runs a room script. @param {string} name @param {string} room @param {(string | number)[]} args
   * @returns {Promise<unknown>}
   */
  run(name, room, args) {
    const base = `${this.prefix}{${room}}`;
    return /** @type {any} */ (this.commands)[name](`${base}:members`, `${base}:where`, `${base}:seq`, `${base}:events`, ...args);
  }

  /** @param {string} room */
  subscribe(room) {
    let subscription = this.subscriptions.get(room);
    if (!subscription) {
      const channel = `${this.prefix}{${room}}:events`;
      this.channels.set(channel, room);
      subscription = this.subscriber.subscribe(channel);
      this.subscriptions.set(room, subscription);
      // A failed subscription is retried by the next join.
      subscription.catch(() => {
        if (this.subscriptions.get(room) === subscription) this.subscriptions.delete(room);
      });
    }
    return subscription;
  }

  /** Drops a local member, and the room's subscription with the last one. @param {string} room @param {string} peer @param {Member} member */
  forget(room, peer, member) {
    const members = this.local.get(room);
    if (members?.get(peer) !== member) return;
    members.delete(peer);
    if (members.size > 0) return;
    this.local.delete(room);
    this.subscriptions.delete(room);
    const channel = `${this.prefix}{${room}}:events`;
    this.channels.delete(channel);
    this.subscriber.unsubscribe(channel).catch((error) => this.reportRedisError('unsubscribe', error));
  }

  /** A pub/sub message: a room event, or a signal for a member of this instance. @param {string} channel @param {string} message */
  receive(channel, message) {
    let parsed;
    try {
      parsed = JSON.parse(message);
    } catch {
      this.logger.warn(`ignored a message on ${channel} that is not JSON`);
      return;
    }
    if (channel === this.instanceChannel) {
      const member = this.local.get(parsed?.room)?.get(parsed?.to);
      if (member && typeof parsed.from === 'string') this.deliver(member, undefined, { type: 'signal', from: parsed.from, data: parsed.data });
      return;
    }
    const room = this.channels.get(channel);
    const event = roomEvent(parsed);
    if (room === undefined || event === undefined || !Number.isSafeInteger(parsed.seq)) return;
    for (const [peer, member] of [...(this.local.get(room) ?? [])]) if (peer !== event.peer) this.deliver(member, parsed.seq, event);
  }

  /** @param {Member} member @param {number | undefined} seq @param {MemberEvent} event */
  deliver(member, seq, event) {
    if (member.joinSeq === undefined) member.early.push({ seq, event });
    // Room events up to the join are already in the join's `peers`; signals have no sequence.
    else if (seq === undefined || seq > member.joinSeq) member.inbox(event);
  }

  /** Extends the presence of this instance's members and removes expired ones of their rooms. */
  async refresh() {
    const rooms = [...this.local];
    await Promise.all(
      rooms.map(async ([room, members]) => {
        const joined = [...members].filter(([, member]) => member.joinSeq !== undefined).map(([peer]) => peer);
        try {
          const lost = /** @type {string[]} */ (await this.run('ednetRefresh', room, [this.instance, this.presenceTtlMs, ...joined]));
          for (const peer of lost) {
            const member = this.local.get(room)?.get(peer);
            if (!member || member.joinSeq === undefined) continue;
            this.forget(room, peer, member);
            member.inbox({ type: 'evicted', reason: 'presence lost' });
          }
        } catch (error) {
          this.reportRedisError('presence refresh', error);
        }
      }),
    );
  }

  /** Logs Redis trouble at most once every few seconds: an outage must not flood the log. @param {string} what @param {unknown} error */
  reportRedisError(what, error) {
    const now = Date.now();
    if (now - this.lastErrorLog < 5000) return;
    this.lastErrorLog = now;
    this.logger.warn(`Redis (${what}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A room event from the channel, checked. @param {any} parsed @returns {(MemberEvent & { peer: string }) | undefined} */
function roomEvent(parsed) {
  if (typeof parsed?.peer !== 'string') return undefined;
  if (parsed.type === 'peer-joined') return { type: 'peer-joined', peer: parsed.peer };
  if (parsed.type === 'peer-left' && typeof parsed.reason === 'string') return { type: 'peer-left', peer: parsed.peer, reason: parsed.reason };
  return undefined;
}
