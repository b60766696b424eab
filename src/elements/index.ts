/**
 * blockspin's custom elements (`import 'blockspin/elements'`): the lab's building blocks, for any web page.
 * Importing this module defines the tags; each element takes a `GPUDevice` from the host page (`el.device = d`)
 * or acquires one (one device shared by all the page's elements that acquire).
 *
 * - `<blockspin-lattice>`: a live 2D Ising lattice drawn from the GPU, with its controls and readouts.
 * - `<blockspin-ising-scan>`: U4, χ and C against T over a grid of replicas, beside the exact finite-L curves.
 * - `<blockspin-rbm-trainer>`: train dense or convolutional RBMs on Ising data, NPY/IDX files or digits.
 * - `<blockspin-plot>`: a live plot (uPlot) for streams, histograms and scans with error bars.
 * - `<blockspin-report>`: a study report (`blockspin reproduce NAME`) with its results and figures.
 *
 * @example
 * <script type="module">import 'blockspin/elements';</script>
 * <blockspin-lattice size="256" temperature="2.27"></blockspin-lattice>
 */
export {
  BlockspinLattice,
  type LatticeReadout,
  type LatticeSettingsChange,
  type LatticeStatus,
  type LatticeErrorKind,
} from './lattice.ts';
export {
  BlockspinIsingScan,
  DEFAULT_SCAN,
  checkScan,
  scanTemperatures,
  type ScanSettings,
  type ScanPoint,
  type ScanDone,
} from './ising-scan.ts';
export {
  BlockspinRbmTrainer,
  type TrainerStatus,
  type TrainerErrorKind,
  type TrainerEpochDetail,
  type TrainerTrainedDetail,
  type TrainerSettingsDetail,
} from './rbm-trainer.ts';
export { TRAINER_PRESETS } from './rbm-options.ts';
export { BlockspinPlot, PLOT_PALETTE, type PlotSeries, type PlotStyle } from './plot.ts';
export { histogram, type PlotData } from './plot-data.ts';
export { BlockspinReport, reportPath, type ReportFiles } from './report.ts';
export { elementDevice, sharedGpu } from './device.ts';
