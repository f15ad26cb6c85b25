export { parseServeArgs } from './serve.js';
export { ExitCode } from './usage.js';
