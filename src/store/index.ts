// The storage layer: the storage port with in-memory and IndexedDB implementations, the glue that
// keeps a model and its stored copy in step, node identities, and room export and import.
export type {
  IdentityStorage,
  MetadataStorage,
  ModelStorage,
  RoomMetadata,
  RoomStorage,
  SequenceReservation,
  StorageAdapter,
  StoredIdentity,
  StoredModel,
} from './storage-adapter.js';
export { StorageError, StorageErrorCode, isStorageError, toStorageError } from './storage-error.js';
export { MemoryStorageAdapter, type RawPlace } from './memory-storage-adapter.js';
export {
  type ClaimsToForget,
  type DamagedRecord,
  type QuarantineRequest,
  type QuarantinedRecord,
  type StorageProblem,
  StorageProblemKind,
  describeStorageProblem,
} from './quarantine.js';
export { IndexedDbStorageAdapter, type IndexedDbStorageAdapterOptions } from './indexeddb-storage-adapter.js';
export { ELECTION_KEYS_DB_NAME, IndexedDbElectionKeyStore } from './indexeddb-election-key-store.js';
export { DEVICE_DB_NAME, IndexedDbDeviceKeyStore } from './indexeddb-device-key-store.js';
export { DB_VERSION, roomDatabaseName } from './room-database-schema.js';
export { type LockManagerLike, NodeIdentity, type NodeIdentityOptions } from './node-identity.js';
export { ModelPersistence, type ModelPersistenceOptions, type PersistableModel, type PersistenceEvent } from './model-persistence.js';
export { type PersistentStorageManager, requestPersistentStorage } from './persistent-storage.js';
export {
  type ExportRoomOptions,
  type ImportRoomOptions,
  type ModelLookup,
  ROOM_FILE_FORMAT,
  ROOM_FILE_LIMITS,
  ROOM_FILE_VERSION,
  type RoomFile,
  type RoomFileLimits,
  type RoomFileResult,
  exportRoom,
  importRoom,
  readRoomFile,
  roomFileBlob,
  roomFileName,
} from './room-file.js';
