import { expect } from 'chai';
import '../../src/app/ednet-share-panel.js';
import type { EDNetSharePanel } from '../../src/app/ednet-share-panel.js';

const link = 'https://ednet.example/#/room/V1StGXR8_Z5jdHi6B-myT?k=aGVsbG8td29ybGQtMTIzNDU2Nzg5MA';

async function panel(setup: (element: EDNetSharePanel) => void = () => {}): Promise<EDNetSharePanel> {
  const element = document.createElement('ednet-share-panel');
  element.link = link;
  element.roomName = 'Board';
  setup(element);
  document.body.append(element);
  await element.updateComplete;
  return element;
}

const button = (element: EDNetSharePanel, name: string) =>
  [...element.shadowRoot!.querySelectorAll('button')].find((candidate) => candidate.textContent!.trim() === name);
const status = (element: EDNetSharePanel) => element.shadowRoot!.querySelector('[role="status"]')!.textContent!.trim();

describe('ednet-share-panel', () => {
  afterEach(() => document.querySelectorAll('ednet-share-panel').forEach((element) => element.remove()));

  it('replaces the room key only after a confirmation', async () => {
    const element = await panel();
    let requests = 0;
    element.addEventListener('rotate-room-key', () => requests++);
    button(element, 'Make a new link…')!.click();
    await element.updateComplete;
    button(element, 'Cancel')!.click();
    await element.updateComplete;
    expect(requests).to.equal(0);
    button(element, 'Make a new link…')!.click();
    await element.updateComplete;
    button(element, 'Replace the key now')!.click();
    await element.updateComplete;
    expect(requests).to.equal(1);
    expect(button(element, 'Replace the key now')).to.equal(undefined);
  });

  it('shows the link and a QR code of it', async () => {
    const element = await panel();
    expect(element.shadowRoot!.querySelector('input')!.value).to.equal(link);
    expect(element.shadowRoot!.querySelector('ednet-qr-code')!.text).to.equal(link);
  });

  it('copies through the Clipboard API', async () => {
    const copied: string[] = [];
    const element = await panel((e) => (e.copyEnvironment = { clipboard: { writeText: async (text) => void copied.push(text) } }));
    button(element, 'Copy link')!.click();
    await new Promise((resolve) => setTimeout(resolve));
    await element.updateComplete;
    expect(copied).to.deep.equal([link]);
    expect(status(element)).to.equal('Link copied.');
  });

  it('falls back to selecting the field and the copy command when the clipboard refuses', async () => {
    let selected = '';
    const element = await panel(
      (e) =>
        (e.copyEnvironment = {
          clipboard: { writeText: () => Promise.reject(new DOMException('denied', 'NotAllowedError')) },
          copyCommand: () => ((selected = String(getSelectionOf(e))), true),
        }),
    );
    button(element, 'Copy link')!.click();
    await new Promise((resolve) => setTimeout(resolve));
    await element.updateComplete;
    expect(selected).to.equal(link);
    expect(status(element)).to.equal('Link copied.');
  });

  it('tells the user to copy by hand when nothing works, leaving the link selected', async () => {
    const element = await panel((e) => (e.copyEnvironment = { copyCommand: () => false }));
    button(element, 'Copy link')!.click();
    await new Promise((resolve) => setTimeout(resolve));
    await element.updateComplete;
    expect(status(element)).to.include('copy it with Ctrl+C');
    expect(getSelectionOf(element)).to.equal(link);
  });

  it('offers the share sheet only where there is one, and treats cancelling as no error', async () => {
    expect(button(await panel((e) => (e.shareTarget = null)), 'Share…')).to.equal(undefined);
    const shared: unknown[] = [];
    let cancel = false;
    const element = await panel(
      (e) =>
        (e.shareTarget = {
          share: async (data) => {
            if (cancel) throw new DOMException('cancelled', 'AbortError');
            shared.push(data);
          },
        }),
    );
    button(element, 'Share…')!.click();
    await new Promise((resolve) => setTimeout(resolve));
    expect(shared).to.deep.equal([{ title: 'EDNet room: Board', url: link }]);
    cancel = true;
    button(element, 'Share…')!.click();
    await new Promise((resolve) => setTimeout(resolve));
    await element.updateComplete;
    expect(status(element)).to.equal('');
  });
});

function getSelectionOf(element: EDNetSharePanel): string {
  const input = element.shadowRoot!.querySelector('input')!;
  return input.value.slice(input.selectionStart ?? 0, input.selectionEnd ?? 0);
}
