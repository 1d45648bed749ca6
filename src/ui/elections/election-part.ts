import { type CSSResultGroup, LitElement, type PropertyDeclarations, css } from 'lit';
import type { CRDTEntity } from '../../domain/index.js';
import { ElectionRoles, type ElectoralSystemModel } from '../../models/electoral/index.js';
import { deviceDisplayName } from '../shared/device-names.js';
import { ModelController } from '../shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles, disclosureStyles } from '../shared/theme.js';

/** A connected peer, as parts name devices: its node id and the name it gave, if any. */
export interface PeerName {
  readonly peerId: string;
  readonly displayName: string | null;
}

/**
 * What every part of the elections view shares: the model and the election it shows, a
 * subscription that re-renders the part when the model changes (locally or from a peer), and the
 * theme. Each part acts on the model itself; the model's rules decide, and their errors show next
 * to the field they concern.
 */
export abstract class ElectionPart extends LitElement {
  static override properties: PropertyDeclarations = {
    model: { attribute: false },
    electionId: { attribute: 'election-id' },
    peers: { attribute: false },
  };

  declare model: ElectoralSystemModel | undefined;
  declare electionId: string | undefined;
  /** Connected peers (the node status's), to name devices by the names they gave. */
  declare peers: readonly PeerName[];
  /** Re-renders on every change of the model; its `revision` keys what a part derives from it. */
  protected readonly modelChanges: ModelController;

  constructor() {
    super();
    this.peers = [];
    this.modelChanges = new ModelController(this, () => this.model);
  }

  static override styles: CSSResultGroup = [
    baseStyles,
    controlStyles,
    cardStyles,
    disclosureStyles,
    css`
      :host {
        display: block;
        min-width: 0;
      }
      section.card {
        margin: 0;
        height: 100%;
      }
      .head {
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        justify-content: space-between;
        gap: 4px 12px;
      }
      /* A row's text takes the room the button leaves, so a long name wraps beside the button
         instead of pushing it onto a line of its own (every row then looks the same). */
      .head > .wrap:first-child {
        flex: 1 1 10rem;
        min-width: 0;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(min(100%, 12rem), 1fr));
        gap: 0 var(--ed-gap, 12px);
      }
      ul.plain {
        list-style: none;
        margin: 0 0 var(--ed-gap, 12px);
        padding: 0;
      }
      ul.plain > li {
        padding: 8px 0;
        border-bottom: 1px solid var(--ed-border, #7d8692);
      }
      ul.plain > li:last-child {
        border-bottom: none;
      }
      fieldset {
        border: 1px solid var(--ed-border, #7d8692);
        border-radius: var(--ed-radius, 8px);
        margin: 0 0 var(--ed-gap, 12px);
        padding: 8px var(--ed-gap, 12px);
        min-width: 0;
      }
      legend {
        font-weight: 600;
        padding: 0 4px;
      }
    `,
  ];

  /** The live election shown, if any. */
  protected election(): CRDTEntity | undefined {
    const election = this.electionId ? this.model?.get(this.electionId) : undefined;
    return election?.concept === 'Election' ? election : undefined;
  }

  /** True if the model enforces election roles (a room session's model does). */
  protected rolesEnforced(): boolean {
    return this.model?.roles === ElectionRoles.enforced;
  }

  /**
   * True if this device may open and close the election shown, add candidates and approve voters:
   * its organiser or a co-organiser (anyone, with open roles).
   */
  protected organising(): boolean {
    return this.electionId !== undefined && this.model !== undefined && this.model.isOrganiser(this.electionId);
  }

  /** True if this device is the election's organiser, its creator: the only one editing its details (anyone, with open roles). */
  protected owning(): boolean {
    return this.electionId !== undefined && this.model !== undefined && this.model.isOwner(this.electionId);
  }

  /**
   * A device for people: "this device", or the name it shares with the room (or a connected tab
   * of it gave), quoted as its own words; its short id only when it has no name. Render as text.
   */
  protected deviceName(deviceId: string | undefined): string {
    if (deviceId !== undefined && deviceId === this.model?.deviceId) return 'this device';
    const name = deviceDisplayName(this.model, this.peers, deviceId);
    return name ? `“${name}”` : `device ${shortDevice(deviceId)}`;
  }
}

/** How a device is shown to people: the start of its id, enough to tell devices apart. */
export function shortDevice(deviceId: string | undefined): string {
  return deviceId ? `${deviceId.slice(0, 8)}…` : 'unknown';
}
