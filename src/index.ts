/**
 * blockspin: a WebGPU compute engine for 2D Ising Monte Carlo, restricted Boltzmann machines and
 * real-space renormalization group. This is the public API; the demo and the benchmarks use only it.
 */
// The API speaks WebGPU's types (GPUDevice, …): the emitted index.d.ts keeps this reference, and
// @webgpu/types is a dependency, so TypeScript consumers need no setup of their own.
/// <reference types="@webgpu/types" preserve="true" />
export {
  GpuContext,
  WebGPUUnavailableError,
  WEBGPU_HELP,
  summarize,
  adapterBrief,
  REQUESTED_LIMITS,
  OPTIONAL_FEATURES,
  type AcquireOptions,
  type AdapterSummary,
  type AdapterBrief,
  type Backend,
  type DeviceLostDetail,
} from './gpu/device.ts';
export {
  DeviceLostError,
  deviceLostError,
  throwIfLost,
  watchDeviceLoss,
  whileAlive,
  workDone,
} from './gpu/lost.ts';
export {
  Program,
  Dispatch,
  Copy,
  submitStep,
  workgroupGrid,
  composeWgsl,
  type Encodable,
  type KernelSource,
  type DispatchOptions,
  type OverrideValues,
} from './gpu/kernel.ts';
export {
  reflectShader,
  structLayout,
  StructView,
  type StructLayout,
  type FieldLayout,
  type BindingInfo,
} from './gpu/reflect.ts';
export {
  createBuffer,
  createStorageBuffer,
  createUniformBuffer,
  uploadBuffer,
  readBuffer,
  checkStorageSize,
} from './gpu/buffers.ts';
export { GpuTimer, timeStep, type PassTiming } from './gpu/timing.ts';
export { RngPurpose, seedKey, streamWord } from './gpu/rng.ts';
export {
  RandomFill,
  evaluatePhiloxOnGpu,
  evaluateThreefryOnGpu,
  type RandomFillOptions,
} from './gpu/random.ts';
export {
  SegmentedReduction,
  decodeAccumulators,
  reduceArray,
  type ElementType,
  type ReductionOptions,
  type ReductionResult,
} from './gpu/reduce.ts';
export { wgsl } from './gpu/shaders.ts';
export { philox4x32, unitFloat, philoxUniforms } from './gpu/philox.ts';
export { threefry4x32, THREEFRY_ROUNDS } from './gpu/threefry.ts';
export { estimatePi, MAX_PI_SAMPLES, type EstimatePiOptions, type PiEstimate } from './gpu/pi.ts';
export {
  IsingEngine,
  MAX_SWEEPS,
  type RunOptions as IsingRunOptions,
  type ReplicaSeries,
  type IsingSnapshot,
} from './ising/engine.ts';
export {
  resolveIsingConfig,
  type IsingOptions,
  type IsingConfig,
  type IsingAlgorithm,
  type IsingKernel,
  type IsingTieList,
  type IsingTuning,
  type IsingInit,
} from './ising/config.ts';
export { replicaTable, replicaTables, type ReplicaCouplings } from './ising/tables.ts';
export {
  IsingRenderer,
  SpinRenderer,
  SPIN_PALETTE,
  spinViewPlacement,
  type IsingRendererOptions,
  type SpinRendererOptions,
  type SpinBuffer,
  type SpinEncoding,
  type SpinPalette,
  type SpinViewPlacement,
  type SpinViewScaling,
} from './ising/view.ts';
export {
  isingRunEstimates,
  replicaAgreement,
  REPLICA_AGREEMENT_Z,
  REPLICA_AGREEMENT_TAUS,
  type IsingRunInput,
  type IsingRunEstimates,
  type ReplicaAgreement,
} from './ising/estimates.ts';
export {
  generateDataset,
  resolveDatasetOptions,
  MAX_SAMPLE_BYTES,
  type Dataset,
  type DatasetOptions,
  type DatasetTemperature,
  type DatasetResume,
} from './ising/dataset.ts';
export {
  datasetFiles,
  datasetFileName,
  writeDataset,
  checkOutputDirectory,
  type DatasetFile,
  type DatasetContext,
  type SpinFormat,
} from './io/dataset-files.ts';
export {
  resumeFiles,
  loadPartialDataset,
  PartialDatasetError,
  type PartialDataset,
  type GenerationOptions,
} from './io/dataset-resume.ts';
export {
  encodeNpy,
  decodeNpy,
  packBits,
  NpyFormatError,
  type NpyArray,
  type NpyDtype,
  type NpyData,
} from './io/npy.ts';
export * as stats from './stats/index.ts';
export * as exact from './exact/ising.ts';
export {
  RbmEngine,
  RbmDivergedError,
  learningRate,
  logOddsBias,
  LOG_ODDS_CLIP,
  type VisibleBiasInit,
  type RbmOptions,
  type TrainingOptions,
  type RbmUnits,
  type ConvGeometry,
  type OptimizerKind,
  type LearningRateSchedule,
  type RbmParameters,
  type RbmTrainingState,
} from './rbm/engine.ts';
export { RbmMonitor, denseModel, MAX_EXACT_UNITS } from './rbm/monitor.ts';
export {
  annealedImportanceSampling,
  baseRateBiases,
  defaultBetas,
  AIS_PROGRESS_STEPS,
  type AisOptions,
  type AisResult,
} from './rbm/ais.ts';
export { trainDbn, propagateUp, type Dbn, type DbnLayer, type DbnOptions } from './rbm/dbn.ts';
export { gibbsSample, type GibbsSampleOptions } from './rbm/sample.ts';
export {
  rbmFlow,
  MAX_FLOW_GENERATIONS,
  type FlowStep,
  type RbmFlowOptions as RbmFlowRunOptions,
} from './rbm/flow.ts';
export {
  MlpEngine,
  MlpDivergedError,
  MLP_LIMITS,
  type MlpActivation,
  type MlpMatmul,
  type MlpOptions,
  type MlpParameters,
  type MlpTrainingOptions,
} from './nn/mlp.ts';
export {
  saveCheckpoint,
  loadCheckpoint,
  checkpointFiles,
  parseCheckpointFiles,
  CheckpointFormatError,
  CHECKPOINT_FILES,
  fingerprint,
  type CheckpointMeta,
  type LoadedCheckpoint,
} from './rbm/checkpoint.ts';
export {
  saveModel,
  loadModel,
  modelFiles,
  parseModelFiles,
  ModelFormatError,
  type RbmModel,
  type LoadedRbmModel,
} from './rbm/model-files.ts';
export {
  loadTrainingData,
  parseIsingDataset,
  splitHoldout,
  setMnistDigitLoader,
  TrainingDataError,
  type MnistDigitLoader,
  type TrainingData,
  type TrainingSource,
} from './rbm/data.ts';
export { convertRbm, convertData } from './rbm/convert.ts';
export {
  checkRbm,
  isConvRbm,
  visibleCount,
  hiddenCount,
  type Rbm,
  type DenseRbm,
  type ConvRbm,
} from './rbm/model.ts';
export {
  encodeIdx,
  decodeIdx,
  IdxFormatError,
  MAX_IDX_BYTES,
  type IdxArray,
  type IdxType,
  type IdxData,
} from './io/idx.ts';
export { writeDirectoryAtomically, type DirectoryFile } from './io/atomic-dir.ts';
export {
  McrgRunner,
  resolveMcrgRun,
  jackknifeBins,
  mcrgLayout,
  blockingName,
  shardRange,
  defaultBlockLength,
  MAX_MCRG_REPLICAS,
  DEFAULT_MCRG_REPLICAS,
  type McrgOptions,
  type McrgRunRecord,
  type McrgAlgorithm,
  type McrgShard,
  type McrgProgress,
} from './rg/run.ts';
export {
  analyseMcrg,
  formatValueError,
  formatMcrgTable,
  type McrgEstimate,
  type McrgAnalysis,
  type McrgAnalysisOptions,
} from './rg/mcrg.ts';
export {
  BlockSpinPipeline,
  blockingFactor,
  checkBlockingGeometry,
  type BlockingRule,
  type BlockSpinOptions,
} from './rg/blocking.ts';
export { type McrgBlock, type OperatorLayout, type OperatorTauTable } from './rg/statistics.ts';
export {
  mcrgCheckpointFiles,
  parseMcrgCheckpointFiles,
  writeMcrgCheckpoint,
  readMcrgCheckpoint,
  McrgCheckpointError,
  type McrgCheckpoint,
  type McrgCheckpointRule,
} from './rg/checkpoint.ts';
export { type McrgRunnerOptions } from './rg/run.ts';
export {
  PRESETS,
  combinedZ,
  type Preset,
  type Study,
  type StudyContext,
  type StudyUpdate,
  type StudyCheckpoints,
  type StudyOutput,
  type ResultEntry,
  type SourceValue,
  type FigureSpec,
  type StageTime,
} from './studies/study.ts';
export { studyNames, loadStudy, registerStudy, type StudyLoader } from './studies/registry.ts';
export {
  reportJson,
  reportMarkdown,
  reportFiles,
  writeReport,
  formatValueErr,
  formatZ,
  parseReportJson,
  describeAdapter,
  ReportFormatError,
  type ReportMeta,
  type ReportJson,
} from './studies/report.ts';
export {
  renderFigure,
  errorBarPlot,
  heatmap,
  imageGrid,
  linePlot,
  histogramPlot,
  type ImageGridOptions,
} from './studies/figures.ts';
export {
  THERMAL_LIMITS,
  configurationObservables,
  energyTemperature,
  exactCurve,
  magnetizationTemperature,
  readGeneration,
  referenceScan,
  type ExactCurve,
  type GenerationReading,
  type Lattice,
  type ReferenceScan,
  type TemperatureReading,
} from './studies/thermometers.ts';
export {
  FLOW_EXPERIMENTS,
  RBM_FLOW_PRESETS,
  PLANS as FLOW_PLANS,
  destroyFlowLattice,
  flowMlp,
  flowModelSeed,
  flowStartStates,
  prepareFlowLattice,
  readFlowGeneration,
  toFloat as spinsToUnits,
  toSpins as unitsToSpins,
  trainFlowModel,
  type FlowExperiment,
  type FlowLattice,
  type FlowLatticeName,
  type RbmFlowOptions,
  type StartReading,
} from './studies/rbm-flow.ts';
