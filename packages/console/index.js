import { fileURLToPath } from 'node:url';

/** Directory holding the built console (`npm run build`); the server serves it at `/`. */
export const consoleDir = fileURLToPath(new URL('./dist/', import.meta.url));
