/**
 * Resolves on a later turn of the event loop by posting a message to ourselves: unlike nested
 * `setTimeout(0)`, it is not clamped to 4 ms. Needs `MessageChannel` (browsers, Node).
 */
export function nextMessageTurn(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
