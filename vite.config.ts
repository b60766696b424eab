import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;

/**
 * What the library bundle leaves to `import`: Node built-ins and the package's runtime dependencies, which an
 * installed blockspin has. Everything else (wgsl_reflect included) is bundled, so an external can never be a
 * package that a consumer's `npm install` does not bring.
 */
const runtimeDependencies = Object.keys(
  (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies?: object })
    .dependencies ?? {},
);
const isExternal = (id: string): boolean =>
  id.startsWith('node:') ||
  // `?inline` imports (a dependency's CSS as a string, e.g. uPlot's for <blockspin-plot>'s shadow root) are bundled.
  (!id.includes('?') && runtimeDependencies.some((name) => id === name || id.startsWith(`${name}/`)));

/**
 * One config for the demo dev server (`vite`), the library build (`vite build --mode lib`),
 * the demo build (`vite build --mode demo`) and the tests (`vitest`).
 */
export default defineConfig(({ mode }) => {
  const shared = {
    resolve: {
      // wgsl_reflect's `main` is CommonJS inside a `"type": "module"` package: use its ES module.
      alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' },
    },
  };

  if (mode === 'lib') {
    return {
      ...shared,
      build: {
        outDir: resolve(root, 'dist/lib'),
        emptyOutDir: true,
        target: 'es2022',
        sourcemap: true,
        lib: {
          entry: {
            blockspin: resolve(root, 'src/index.ts'),
            cli: resolve(root, 'src/cli/main.ts'),
            elements: resolve(root, 'src/elements/index.ts'),
          },
          formats: ['es' as const],
        },
        rollupOptions: {
          external: isExternal,
        },
      },
    };
  }

  return {
    ...shared,
    root: resolve(root, 'demo'),
    publicDir: false as const,
    server: { host: '127.0.0.1', port: 5173, fs: { allow: [root] } },
    preview: { host: '127.0.0.1', port: 4173 },
    build: {
      outDir: resolve(root, 'dist/demo'),
      emptyOutDir: true,
      target: 'es2022',
      // src/gpu/node-gpu.ts (Dawn) is only imported when running under Node; keep node: builtins out of the bundle.
      rollupOptions: {
        external: [/^node:/],
        // The lab, and the embedding example: a plain page that uses blockspin/elements with its own device.
        input: { main: resolve(root, 'demo/index.html'), embed: resolve(root, 'demo/embed.html') },
      },
    },
    test: {
      root,
      include: ['test/**/*.test.ts'],
      environment: 'node',
      // Dawn is a native addon: run each test file in its own process, not in worker threads.
      pool: 'forks',
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  };
});
