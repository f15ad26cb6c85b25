/** Directory holding the built console (`npm run build`); the server serves it at `/`. */
export declare const consoleDir: string;
