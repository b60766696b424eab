#!/usr/bin/env node
// blockspin CLI launcher. In a source checkout it runs src/cli/main.ts directly (tsx + loader hooks for
// `?raw` WGSL imports); an installed package without src/ runs the bundled dist/lib/cli.js.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(root, 'src/cli/main.ts');

if (existsSync(source)) {
  register('./loader-hooks.js', import.meta.url);
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(resolve(root, 'dist/lib/cli.js')).href);
}
