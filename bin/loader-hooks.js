// Node module hooks for running blockspin's TypeScript sources directly (a source checkout):
// `*.wgsl?raw` imports load as a default-exported string (as Vite does), and `wgsl_reflect` resolves
// to its ES module build (its `main` is CommonJS inside a `"type": "module"` package).
import { readFile } from 'node:fs/promises';

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'wgsl_reflect') return nextResolve('wgsl_reflect/wgsl_reflect.module.js', context);
  if (specifier.endsWith('?raw')) {
    const resolved = await nextResolve(specifier.slice(0, -4), context);
    return { url: `${resolved.url}?raw`, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.endsWith('?raw')) {
    const text = await readFile(new URL(url.slice(0, -4)), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
