// simple-peer's prebuilt browser bundle (a UMD file): a CommonJS-aware bundler hands its
// `module.exports` over as the default export; loaded as a plain module it sets `globalThis.SimplePeer`.
declare module 'simple-peer/simplepeer.min.js' {
  const SimplePeer: unknown;
  export default SimplePeer;
}
