import { LitElement, css, html, nothing } from 'lit';
import { deviceOf } from '../domain/index.js';
import { type ElectoralSystemModel, memberNames, roomCreatorOf } from '../models/electoral/index.js';
import type { NodeStatus, PeerInfo } from '../node/node-events.js';
import { ModelController } from '../ui/shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles, disclosureStyles } from '../ui/shared/theme.js';

/** One person in the room: a device, its name, and how this device stands with it. */
interface Person {
  readonly device: string;
  readonly name: string | undefined;
  readonly self: boolean;
  readonly connected: boolean;
  readonly upToDate: boolean;
  readonly creator: boolean;
}

/**
 * Who is here: everyone who shared a name with the room or is connected now, whether this
 * device reaches them now, and whether they are up to date with it. Names are peers' own words,
 * rendered as text; device ids only in the details.
 */
export class EDNetRoomPeople extends LitElement {
  static override properties = { model: { attribute: false }, status: { attribute: false }, roomId: { attribute: 'room-id' } };
  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    disclosureStyles,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        gap: 0 12px;
        align-items: baseline;
        padding: 6px 0;
        border-bottom: 1px solid var(--ed-border, #7d8692);
      }
      li:last-child {
        border-bottom: none;
      }
      .name {
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      .ids {
        font-family: ui-monospace, monospace;
        font-size: 0.8rem;
        overflow-wrap: anywhere;
      }
    `,
  ];

  declare model: ElectoralSystemModel | undefined;
  declare status: NodeStatus | undefined;
  declare roomId: string;

  constructor() {
    super();
    this.roomId = '';
    new ModelController(this, () => this.model);
  }

  override render() {
    const people = this.#people();
    return html`<section class="card" aria-labelledby="people-heading">
      <h2 id="people-heading">Who is here</h2>
      <ul>
        ${people.map(
          (person) => html`<li>
            <span class="name">${person.self ? `${person.name ?? 'You'} (you)` : (person.name ?? 'Someone without a name')}</span>
            <span class="muted"
              >${person.self ? 'this device' : person.connected ? (person.upToDate ? 'connected, up to date' : 'connected, catching up') : 'not connected now'}${person.creator
                ? ', created the room'
                : ''}</span
            >
          </li>`,
        )}
      </ul>
      ${people.length <= 1 ? html`<p class="hint">Nobody else has joined yet. Invite people with the room link.</p>` : nothing}
      <details>
        <summary>Device ids</summary>
        <ul>
          ${people.map((person) => html`<li><span>${person.name ?? 'No name'}</span><span class="ids">${person.device}</span></li>`)}
        </ul>
      </details>
    </section>`;
  }

  #people(): Person[] {
    const model = this.model;
    if (!model) return [];
    const names = memberNames(model);
    const self = model.deviceId ?? deviceOf(model.nodeId) ?? model.nodeId;
    const creator = roomCreatorOf(this.roomId);
    const peers = new Map<string, PeerInfo[]>();
    for (const peer of this.status?.peers ?? []) {
      const device = deviceOf(peer.peerId) ?? peer.peerId;
      peers.set(device, [...(peers.get(device) ?? []), peer]);
    }
    const devices = new Set([self, ...names.keys(), ...peers.keys()]);
    const person = (device: string): Person => {
      const links = peers.get(device) ?? [];
      return {
        device,
        name: names.get(device) ?? links.find((peer) => peer.displayName)?.displayName ?? undefined,
        self: device === self,
        connected: links.length > 0,
        upToDate: links.length > 0 && links.every((peer) => peer.inSync),
        creator: device === creator,
      };
    };
    // You first, then those connected now, then by name.
    return [...devices].map(person).sort((a, b) => Number(b.self) - Number(a.self) || Number(b.connected) - Number(a.connected) || (a.name ?? '~').localeCompare(b.name ?? '~'));
  }
}

customElements.define('ednet-room-people', EDNetRoomPeople);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-room-people': EDNetRoomPeople;
  }
}
