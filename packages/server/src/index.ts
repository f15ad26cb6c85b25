export { buildApp, type AppDeps, type TetherApp } from './app.js';
export { defaultConfig, resolveConfig, type ServerConfig } from './config.js';
export { startServer, createLogger, type RunningServer } from './server.js';
export { createStorage, type Storage } from './storage/factory.js';
export { SqliteStore } from './storage/sqlite/sqlite-store.js';
export type * from './storage/types.js';
export { LocalNotifier, type Notifier, type StreamChange } from './services/live-hub.js';
export { systemClock, type Clock } from './services/clock.js';
