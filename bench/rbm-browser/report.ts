/** What the browser harness page leaves on `window.rbmBench` for `blockspin bench rbm` to collect. */
import type { AdapterSummary } from '../../src/index.ts';
import type { RbmBenchModel, RbmBenchResult } from '../rbm.ts';
import type { TfjsRng } from './tfjs-rbm.ts';

export interface TfjsRbmResult {
  model: RbmBenchModel;
  batch: number;
  k: number;
  rng: TfjsRng;
  steps: number;
  seconds: number;
  samplesPerSec: number;
  gflops: number;
}

export interface BrowserRbmReport {
  status: 'running' | 'done' | 'error';
  /** The last thing the page started (for progress lines and timeouts). */
  progress: string;
  userAgent: string;
  /** blockspin's adapter in the page (null when blockspin was not run or failed to start). */
  adapter: AdapterSummary | null;
  blockspin: RbmBenchResult[];
  tfjs: {
    /** The TF.js backend that initialised (webgpu, else webgl, else cpu). */
    backend: string;
    version: string;
    /** The adapter TF.js's WebGPU device runs on, or the WebGL renderer. */
    adapter: string;
    /** Backends tried before `backend`, with why they failed. */
    failed: string[];
    /** Largest |difference| of the conv layer maths against plain loops (null: conv not run). */
    convCheck: number | null;
    results: TfjsRbmResult[];
  } | null;
  notes: string[];
  error: string | null;
}

declare global {
  interface Window {
    rbmBench?: BrowserRbmReport;
  }
}
