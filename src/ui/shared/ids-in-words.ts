import { DEVICE_ID_CHARS, type DomainModel, deviceOf } from '../../domain/index.js';
import { entityLabel } from './format.js';
import { type NamedPeer, deviceInWords } from './write-permission.js';

// Ids as the model and the engine write them into reasons: device ids (32 characters), node ids
// (a device id and a tab's part), entity ids (owned ones are 53). A word of 32 or more such
// characters is an id in practice (no word of a sentence is that long).
const ID = new RegExp(`(\\b(?:device|node) )?([A-Za-z0-9_-]{${DEVICE_ID_CHARS},})`, 'g');

/**
 * A reason written for logs ("only the organiser (device AbC…) may change Election AbC…") in
 * words for people: a device or node id becomes the person's name ("“Alice”", "this device"), an
 * entity id its label in quotes ("“Board”"), and an id this replica does not know its first 8
 * characters. The reason is a peer's or the model's text: render the result as text only.
 */
export function idsInWords(model: DomainModel | undefined, text: string, peers: readonly NamedPeer[] = []): string {
  if (!model) return text;
  return text.replace(ID, (_match, prefix: string | undefined, id: string) => {
    const entity = model.get(id, { includeDeleted: true });
    const concept = entity ? model.schema.concepts.get(entity.concept) : undefined;
    if (entity && concept) {
      const label = entityLabel(entity, concept);
      return `${prefix ?? ''}${label === entity.oid ? `${id.slice(0, 8)}…` : `“${label}”`}`;
    }
    const device = id.length === DEVICE_ID_CHARS || prefix ? deviceOf(id) : undefined;
    if (device !== undefined) {
      // "device “Alice”" (a node's too: its device is what people know), "this device", "device AbCdEfGh…".
      const words = deviceInWords(model, device, peers);
      return prefix && words.startsWith('“') ? `device ${words}` : words;
    }
    return `${prefix ?? ''}${id.slice(0, 8)}…`;
  });
}
