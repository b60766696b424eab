#!/usr/bin/env node
// blockspin CLI launcher. The installed package runs the bundled dist/lib/cli.js with plain Node (no TypeScript
// loader). A source checkout, recognised by vite.config.ts (which is never packed), runs src/cli/main.ts
// directly through tsx (a devDependency) with loader hooks for `?raw` WGSL imports, so no build is needed
// while developing.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(root, 'src/cli/main.ts');
const bundle = resolve(root, 'dist/lib/cli.js');

if (existsSync(resolve(root, 'vite.config.ts')) && existsSync(source)) {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch (err) {
    process.stderr.write(
      `blockspin: ${root} is a source checkout, which runs the TypeScript sources through tsx, and tsx ` +
        `cannot be loaded (${err.message}): run npm ci\n`,
    );
    process.exit(1);
  }
  register('./loader-hooks.js', import.meta.url);
  tsx.register();
  await import(pathToFileURL(source).href);
} else if (existsSync(bundle)) {
  await import(pathToFileURL(bundle).href);
} else {
  process.stderr.write(
    `blockspin: ${bundle} is missing: this package was packed without a build (npm run build)\n`,
  );
  process.exit(1);
}
