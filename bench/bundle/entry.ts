/**
 * Entry of the self-contained bench bundle (bench/bundle/build.mjs → dist/bench-bundle/app/blockspin.mjs): the
 * whole CLI with bench/all.ts inlined, so `blockspin bench all` and `blockspin reproduce` run with plain Node and
 * no node_modules beside them except the `webgpu` package (Dawn's dawn.node), which stays external.
 */
import * as benchAll from '../all.ts';
import { provideBenchAll } from '../../src/cli/bench.ts';

provideBenchAll(benchAll);
// Imported after the hand-over: main.ts parses process.argv and runs the command when it is evaluated.
await import('../../src/cli/main.ts');
