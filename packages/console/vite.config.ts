import { defineConfig } from 'vite';

export default defineConfig({
  // Workspace packages are bundled from their TypeScript sources.
  resolve: { conditions: ['source'] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Hashed file names under assets/ are what the server caches for a year.
    assetsDir: 'assets',
    target: 'es2022',
  },
  server: {
    // `npm run dev -w @tether/console` proxies the API to a local `tether serve`.
    proxy: { '/v1': 'http://127.0.0.1:4437' },
  },
});
