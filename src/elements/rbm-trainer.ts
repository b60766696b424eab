import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { adapterBrief, type AdapterSummary } from '../gpu/device.ts';
import { DeviceLostError } from '../gpu/lost.ts';
import {
  fingerprint,
  parseCheckpointFiles,
  stateCheckpointFiles,
  engineParameters,
  type LoadedCheckpoint,
} from '../rbm/checkpoint.ts';
import { splitHoldout, type TrainingData } from '../rbm/data.ts';
import { learningRate, RbmDivergedError, RbmEngine, type ConvGeometry } from '../rbm/engine.ts';
import { parseModelFiles, type LoadedRbmModel } from '../rbm/model-files.ts';
import { gibbsSample } from '../rbm/sample.ts';
import { epochMetrics, MAX_EXACT_UNITS, type EpochMetrics } from '../rbm/monitor.ts';
import {
  downloadLinks,
  formatBytes,
  formatCount,
  formStyles,
  jobButtons,
  panelStyles,
  problemList,
  progressLine,
  reflectStatus,
  revokeDownloads,
  statusText,
  whenLost,
  type DownloadLink,
  type JobProgress,
} from './common.ts';
import { elementDevice } from './device.ts';
import { BlockspinPlot, type PlotData, type PlotSeries } from './plot.ts';
import { filterMosaic, sampleMosaic, type Mosaic } from './rbm-images.ts';
import {
  bufferProblems,
  capProblem,
  convGeometry,
  describeEstimate,
  epochEstimate,
  formOverrides,
  freeEnergyMonitored,
  holdoutProblem,
  MONITOR_DENSE_BYTES,
  largestBuffer,
  monitorRows,
  parseTrainerForm,
  presetForm,
  TRAINER_PRESETS,
  trainingCount,
  type EpochEstimate,
  type TrainerField,
  type TrainerForm,
  type TrainerProblem,
  type TrainRequest,
} from './rbm-options.ts';
import {
  fileTrainingData,
  MODEL_FILE_NAMES,
  probeUpdateSeconds,
  timeUpdates,
  requestData,
  trainingDataFromNpy,
  trainingDataNpy,
  type DataPhase,
} from './rbm-run.ts';
import { openFileStore, RbmCheckpointStore, type StoredRun } from './rbm-store.ts';

/** Where the trainer is: reflected on the host as `data-status`. */
export type TrainerStatus =
  | 'waiting'
  | 'idle'
  | 'estimating'
  | 'preparing'
  | 'training'
  | 'complete'
  | 'stopped'
  | 'resumable'
  | 'error';

/** Why it stopped (`data-error` while the status is `error`). */
export type TrainerErrorKind = 'input' | 'limits' | 'cap' | 'data' | 'failed' | 'lost';

/** `blockspin-epoch`'s detail. */
export interface TrainerEpochDetail {
  epoch: number;
  epochs: number;
  metrics: EpochMetrics;
}

/** `blockspin-trained`'s detail: how far the run got and the files of its last checkpoint (model first). */
export interface TrainerTrainedDetail {
  epoch: number;
  epochs: number;
  stopped: boolean;
  files: { name: string; bytes: Uint8Array }[];
}

/** `blockspin-settings-change`'s detail: the preset and the fields set apart from it (for a host's URL). */
export interface TrainerSettingsDetail {
  preset: string;
  overrides: Record<string, string>;
}

/** What `benchmark()` measured. */
export interface TrainerBenchmark {
  preset: string;
  model: string;
  nv: number;
  nh: number;
  batch: number;
  k: number;
  /** Ising configurations trained on (generated for the run) and the seconds that took. */
  samples: number;
  dataSeconds: number;
  updates: number;
  secondsPerUpdate: number;
  /** Training samples per second: batch / seconds per update. */
  samplesPerSecond: number;
}

/** What run.json holds for this element. */
interface TrainerRun extends StoredRun {
  form: TrainerForm;
  preset: string;
  source: string;
  /** The uploaded model the run started from, when it did. */
  startedFrom?: string;
}

/** One live curve: its plot's settings, the data it starts with, and an epoch's values (one per series). */
interface CurveSpec {
  id: string;
  heading: string;
  y: string;
  series: PlotSeries[];
  data: PlotData;
  values: (m: EpochMetrics) => (number | null)[];
}

/** Samples shown (persistent chains, or display chains continued each epoch for CD). */
const SAMPLE_COUNT = 16;
/** Gibbs steps the display chains of a CD run advance per epoch. */
const DISPLAY_STEPS = 10;

const MIME: Record<string, string> = { json: 'application/json', npy: 'application/octet-stream' };
const mimeType = (name: string): string => MIME[name.split('.').pop() ?? ''] ?? 'application/octet-stream';

function draw(canvas: HTMLCanvasElement | null, image: Mosaic | undefined): void {
  if (!canvas || !image) return;
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  context?.putImageData(
    new ImageData(image.rgba as Uint8ClampedArray<ArrayBuffer>, image.width, image.height),
    0,
    0,
  );
}

const isAbort = (err: unknown): boolean => (err as { name?: string } | null)?.name === 'AbortError';

/**
 * `<blockspin-rbm-trainer>`: trains a dense or convolutional RBM in the page, with every option of
 * `blockspin rbm train`, on Ising configurations generated on the GPU, an NPY/IDX file or MNIST digits. Live:
 * the monitors' curves per epoch, the filters as an image mosaic, samples of persistent chains, progress and
 * Stop. Every epoch is checkpointed to the origin-private file system (IndexedDB without it) in the CLI's
 * checkpoint format, the data set beside it, so a reload or a lost device resumes where the run stopped; the
 * model (and the checkpoint) can be downloaded — `blockspin rbm eval|sample --model DIR` reads the files — and
 * a model can be uploaded to continue training. Large runs are timed first: a short probe on this adapter gives
 * the time per epoch, refused above the cap the user sets; buffers beyond the adapter's limits are refused too.
 *
 * Reflected for tests and hosts: `data-status` (TrainerStatus), `data-error` (TrainerErrorKind), `data-epoch`.
 *
 * @fires blockspin-epoch - after each epoch's checkpoint: `{ epoch, epochs, metrics }`.
 * @fires blockspin-trained - when a run ends (complete or stopped): `{ epoch, epochs, stopped, files }`.
 * @fires blockspin-settings-change - when the user changes the preset or a field: `{ preset, overrides }`.
 *
 * @example
 * const trainer = document.createElement('blockspin-rbm-trainer');
 * trainer.preset = 'ising-32-quick';
 * trainer.addEventListener('blockspin-epoch', (e) => console.log(e.detail.metrics));
 * document.body.append(trainer); // acquires the page's shared device unless `device` is set
 */
@customElement('blockspin-rbm-trainer')
export class BlockspinRbmTrainer extends LitElement {
  static override styles = [
    panelStyles,
    formStyles,
    css`
      .layout {
        display: grid;
        grid-template-columns: minmax(330px, 390px) minmax(0, 1fr);
        gap: 16px;
        align-items: start;
      }
      @media (max-width: 900px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      section {
        padding: 14px 16px;
        min-width: 0;
      }
      form {
        display: block;
      }
      fieldset {
        border: 0;
        border-top: 1px solid var(--line, #dde2ea);
        margin: 8px 0 0;
        padding: 6px 0 0;
        min-width: 0;
      }
      legend {
        font-size: 0.78rem;
        font-weight: 700;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--muted, #5b6677);
        padding: 0 6px 0 0;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 6px 8px;
      }
      .grid .wide {
        grid-column: span 2;
      }
      .grid .full {
        grid-column: 1 / -1;
      }
      label {
        font-size: 0.78rem;
        min-width: 0;
      }
      input,
      select {
        width: 100%;
        height: 30px;
        font-size: 0.88rem;
        padding: 3px 6px;
      }
      input[type='checkbox'] {
        width: auto;
        height: auto;
      }
      label.check {
        flex-direction: row;
        align-items: center;
        gap: 6px;
        font-size: 0.82rem;
      }
      input[type='file'] {
        height: auto;
        padding: 3px;
        font-size: 0.8rem;
      }
      details {
        margin-top: 8px;
        font-size: 0.85rem;
      }
      summary {
        cursor: pointer;
        color: var(--muted, #5b6677);
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        margin-top: 12px;
        align-items: center;
      }
      .note {
        font-size: 0.8rem;
        margin: 6px 0 0;
      }
      .banner {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px 12px;
        border: 1px solid #c9d7f5;
        background: #f3f7ff;
        border-radius: 8px;
        padding: 8px 12px;
        margin: 0 0 10px;
        font-size: 0.88rem;
      }
      .estimate {
        margin: 8px 0 0;
        font-size: 0.85rem;
        font-variant-numeric: tabular-nums;
      }
      .estimate b {
        font-weight: 600;
      }
      .live {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 12px 14px;
        margin-top: 10px;
      }
      figure {
        margin: 0;
        min-width: 0;
      }
      figcaption {
        font-size: 0.8rem;
        color: var(--muted, #5b6677);
        margin-bottom: 4px;
      }
      figcaption b {
        color: var(--ink, #1b2330);
        font-size: 0.85rem;
      }
      canvas[hidden] {
        display: none;
      }
      canvas {
        display: block;
        width: 100%;
        max-width: 240px;
        image-rendering: pixelated;
        border-radius: 4px;
        background: #f4f6f9;
      }
      .empty {
        display: grid;
        place-items: center;
        height: 150px;
        border: 1px dashed var(--line, #dde2ea);
        border-radius: 6px;
        color: var(--muted, #5b6677);
        font-size: 0.8rem;
      }
      .downloads {
        margin-top: 10px;
        font-size: 0.85rem;
      }
      .downloads a {
        margin-right: 12px;
        white-space: nowrap;
      }
      .info {
        font-size: 0.82rem;
        color: var(--muted, #5b6677);
        margin: 6px 0 0;
      }
      .error {
        margin: 10px 0 0;
        padding: 8px 12px;
        font-size: 0.88rem;
      }
      .state[data-status='training'],
      .state[data-status='preparing'],
      .state[data-status='estimating'] {
        background: #e6edfb;
        color: var(--accent, #2456c7);
      }
      .state[data-status='stopped'],
      .state[data-status='resumable'] {
        background: #fff4dc;
        color: #8a5a00;
      }
    `,
  ];

  /** The device to train on (owned by the caller); without one the page's shared device is acquired. */
  @property({ attribute: false }) device: GPUDevice | undefined;
  /** The adapter, recorded in checkpoints (optional). */
  @property({ attribute: false }) adapter: AdapterSummary | undefined;
  /** The preset the form starts from (TRAINER_PRESETS ids). */
  @property() preset = TRAINER_PRESETS[0]!.id;
  /** Fields set apart from the preset (e.g. from a URL), applied when the element starts. */
  @property({ attribute: false }) settings: Record<string, string> = {};
  /** The OPFS directory (IndexedDB prefix) of this trainer's checkpoints. */
  @property({ attribute: 'store-key' }) storeKey = 'blockspin-rbm-trainer';

  @state() private status: TrainerStatus = 'waiting';
  @state() private errorKind: TrainerErrorKind | undefined;
  @state() private problems: TrainerProblem[] = [];
  @state() private form: TrainerForm = presetForm(TRAINER_PRESETS[0]!.id);
  @state() private estimate: EpochEstimate | undefined;
  @state() private progress: JobProgress = { phase: 'train', done: 0, total: 0 };
  @state() private epoch = 0;
  @state() private epochs = 0;
  @state() private saved: { epoch: number; epochs: number; saved: string; source: string } | undefined;
  @state() private downloads: DownloadLink[] = [];
  @state() private dataInfo = '';
  @state() private file: { name: string; bytes: Uint8Array; info: string } | undefined;
  @state() private uploaded: { model: LoadedRbmModel; names: string } | undefined;
  @state() private storeNote = '';
  @state() private history: EpochMetrics[] = [];
  /** Bumped per run: the plots are re-created with that run's curves. */
  @state() private plotKey = 0;
  /** The run's model is too large for the free-energy monitors (its dense copy exceeds MONITOR_DENSE_BYTES). */
  @state() private freeEnergySkipped = false;
  private modelShape = '';
  private curveSpecs: CurveSpec[] = this.buildCurves([], false);
  @state() private filters: Mosaic | undefined;
  @state() private samples: Mosaic | undefined;
  /** The samples are the PCD chains themselves (else display chains continued each epoch). */
  private samplesFromChains = false;
  @state() private modelInfo = '';
  @state() private bufferNote = '';

  @query('canvas[data-testid="rbm-filters"]') private filterCanvas!: HTMLCanvasElement | null;
  @query('canvas[data-testid="rbm-samples"]') private sampleCanvas!: HTMLCanvasElement | null;

  private gpu: GPUDevice | undefined;
  private controller: AbortController | undefined;
  private store: RbmCheckpointStore | undefined;
  private lastFiles: { name: string; bytes: Uint8Array }[] = [];
  /** The run's data set (int8 unit values [n, …shape]), offered beside the checkpoint for `rbm train --resume`. */
  private dataFile: { name: string; bytes: Uint8Array } | undefined;
  private drawnFilters: Mosaic | undefined;
  private drawnSamples: Mosaic | undefined;
  private started = false;
  /** The preset the form was last built from. */
  private formPreset = '';

  /** True once the device was lost (set by its `lost` promise, possibly during a run). */
  private get lostDevice(): boolean {
    return this.errorKind === 'lost';
  }

  private get busy(): boolean {
    return this.status === 'estimating' || this.status === 'preparing' || this.status === 'training';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.started) {
      this.started = true;
      this.form = presetForm(this.preset, this.settings);
      this.formPreset = this.preset;
    }
    // Standalone use: without a device from the host after the first render, acquire the page's shared one.
    void this.updateComplete.then(async () => {
      if (this.device || this.gpu || !this.isConnected) return;
      try {
        const device = await elementDevice(undefined);
        if (!this.device && this.isConnected) this.attach(device);
      } catch (err) {
        this.fail('failed', `No WebGPU device: ${(err as Error).message}`);
      }
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.controller?.abort();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('device') && this.device && this.device !== this.gpu) this.attach(this.device);
    // A host that sets `preset` (or `settings`) after the element started: the form follows, unless a run holds it.
    if ((changed.has('preset') || changed.has('settings')) && this.started && !this.busy) {
      if (this.preset !== this.formPreset || changed.has('settings')) {
        this.form = presetForm(this.preset, this.settings);
        this.formPreset = this.preset;
      }
    }
  }

  protected override updated(): void {
    reflectStatus(this, this.status, this.errorKind);
    this.dataset.epoch = String(this.epoch);
    if (this.filters !== this.drawnFilters && this.filterCanvas) {
      draw(this.filterCanvas, this.filters);
      this.drawnFilters = this.filters;
    }
    if (this.samples !== this.drawnSamples && this.sampleCanvas) {
      draw(this.sampleCanvas, this.samples);
      this.drawnSamples = this.samples;
    }
  }

  /** A new device: stop what ran on the old one, watch the new one's loss, look for a saved run. */
  private attach(device: GPUDevice): void {
    this.controller?.abort();
    this.gpu = device;
    this.errorKind = undefined;
    this.problems = [];
    this.status = 'idle';
    whenLost(
      device,
      () => this.gpu,
      (reason) => {
        this.controller?.abort();
        this.fail(
          'lost',
          `The GPU device was lost (${reason}). ${this.saved || this.epoch > 0 ? `The checkpoint of epoch ${this.saved?.epoch ?? this.epoch} is kept: it resumes on the next device (restart the lab, or reload).` : 'No epoch had finished.'}`,
        );
      },
    );
    void this.lookForCheckpoint();
  }

  private async openStore(): Promise<RbmCheckpointStore> {
    if (!this.store) {
      const { store, why } = await openFileStore(this.storeKey);
      this.store = new RbmCheckpointStore(store);
      this.storeNote = why
        ? `Checkpoints: ${why}.`
        : `Every epoch is checkpointed to this site's ${store.kind === 'opfs' ? 'origin-private file system' : 'IndexedDB'} ` +
          'with the data set itself (data.npy), so a resumed run trains on the very same samples (fingerprint checked).';
    }
    return this.store;
  }

  private async lookForCheckpoint(): Promise<void> {
    try {
      const found = await (await this.openStore()).peek();
      if (!found) {
        this.saved = undefined;
        return;
      }
      const run = found.run as TrainerRun;
      this.saved = {
        epoch: found.head.epoch,
        epochs: found.head.epochs,
        saved: found.head.saved,
        source: run.source,
      };
      if (this.status === 'idle') this.status = 'resumable';
    } catch (err) {
      this.storeNote = `Checkpoints cannot be read: ${(err as Error).message}`;
    }
  }

  // ---- form ----

  private onFormChange(event: Event): void {
    const target = event.target as HTMLInputElement | HTMLSelectElement;
    const name = target.name as TrainerField | 'preset' | '';
    if (!name || this.busy) return;
    if (name === 'preset') {
      this.preset = target.value;
      this.formPreset = target.value;
      this.form = presetForm(target.value);
      this.file = undefined;
    } else {
      const value =
        target instanceof HTMLInputElement && target.type === 'checkbox'
          ? String(target.checked)
          : target.value;
      this.form = { ...this.form, [name]: value };
    }
    this.estimate = undefined;
    this.dispatchEvent(
      new CustomEvent<TrainerSettingsDetail>('blockspin-settings-change', {
        detail: { preset: this.preset, overrides: formOverrides(this.preset, this.form) },
        bubbles: true,
        composed: true,
      }),
    );
    this.check();
  }

  /** Validates the form; shows its problems (status error/input) or clears them. */
  private check(): TrainRequest | undefined {
    const parsed = parseTrainerForm(this.form);
    if ('problems' in parsed) {
      this.status = 'error';
      this.errorKind = 'input';
      this.problems = parsed.problems;
      return undefined;
    }
    if (this.status === 'error' && this.errorKind !== 'lost') {
      this.errorKind = undefined;
      this.problems = [];
      this.status = this.saved ? 'resumable' : this.epoch > 0 ? 'complete' : 'idle';
    }
    return parsed.request;
  }

  private fail(kind: TrainerErrorKind, message: string, field?: TrainerField): void {
    this.status = 'error';
    this.errorKind = kind;
    this.problems = [field ? { message, field } : { message }];
  }

  private async onDataFile(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const f = input.files?.[0];
    if (!f) return;
    const bytes = new Uint8Array(await f.arrayBuffer());
    try {
      const d = await fileTrainingData({ name: f.name, bytes }, this.form.units, Number(this.form.binarize));
      this.file = {
        name: f.name,
        bytes,
        info: `${formatCount(d.n)} samples of shape [${d.shape}] (${formatBytes(bytes.length)})`,
      };
      this.check();
    } catch (err) {
      this.file = undefined;
      this.fail('data', `${f.name}: ${(err as Error).message}`, 'data');
    }
  }

  private async onModelUpload(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const files: Record<string, Uint8Array> = {};
    for (const f of input.files ?? []) files[f.name] = new Uint8Array(await f.arrayBuffer());
    try {
      const model = parseModelFiles(files, 'uploaded model');
      const r = model.rbm;
      this.uploaded = { model, names: Object.keys(files).join(', ') };
      this.modelInfo =
        'nv' in r
          ? `dense ${r.nv} × ${r.nh}, ${r.units} units`
          : `conv ${r.filters}:${r.k}:${r.stride} on ${r.Lv}×${r.Lv}, ${r.units} units`;
      this.form = {
        ...this.form,
        units: r.units,
        ...('nv' in r
          ? { model: 'dense' as const, hidden: String(r.nh) }
          : {
              model: 'conv' as const,
              filters: String(r.filters),
              kernel: String(r.k),
              stride: String(r.stride),
            }),
      };
      this.check();
    } catch (err) {
      this.uploaded = undefined;
      this.fail('data', (err as Error).message);
    }
  }

  // ---- runs ----

  private onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    if (this.busy || !this.gpu) return;
    const request = this.check();
    if (request) void this.run(request, { train: true });
  }

  private onEstimate(): void {
    if (this.busy || !this.gpu) return;
    const request = this.check();
    if (request) void this.run(request, { train: false });
  }

  private onStop(): void {
    this.controller?.abort();
  }

  private async onResume(): Promise<void> {
    if (this.busy || !this.gpu) return;
    try {
      const saved = await (await this.openStore()).load();
      if (!saved) {
        this.saved = undefined;
        this.fail(
          'data',
          'The saved checkpoint is incomplete (a file is missing); discard it and train afresh.',
        );
        return;
      }
      const run = saved.run as TrainerRun;
      const checkpoint = parseCheckpointFiles(saved.checkpoint, 'saved checkpoint');
      this.form = run.form;
      this.preset = run.preset;
      this.formPreset = run.preset;
      const parsed = parseTrainerForm(run.form);
      if ('problems' in parsed) throw new Error(parsed.problems.map((p) => p.message).join('; '));
      await this.run(parsed.request, { train: true, resume: { run, checkpoint, data: saved.data } });
    } catch (err) {
      this.fail('failed', `The saved checkpoint cannot be resumed: ${(err as Error).message}`);
    }
  }

  private async onDiscard(): Promise<void> {
    if (this.busy) return;
    await (await this.openStore()).discard();
    this.saved = undefined;
    if (this.status === 'resumable') this.status = 'idle';
  }

  private resetView(): void {
    this.history = [];
    this.filters = undefined;
    this.samples = undefined;
    revokeDownloads(this.downloads);
    this.downloads = [];
    this.epoch = 0;
  }

  /**
   * Checks the buffers, times a probe against the cap, then (with `train`) makes the data and trains, a
   * checkpoint per epoch. `resume` continues a stored run bit-exactly (its data, state and history).
   */
  private async run(
    request: TrainRequest,
    o: { train: boolean; resume?: { run: TrainerRun; checkpoint: LoadedCheckpoint; data: Uint8Array } },
  ): Promise<void> {
    const device = this.gpu!;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const { signal } = controller;
    this.errorKind = undefined;
    this.problems = [];
    const resume = o.resume;
    const uploaded = resume ? undefined : this.uploaded;
    let rbm: RbmEngine | undefined;
    try {
      // 1. The shape of the run, known before any data are made.
      const units = resume?.checkpoint.meta.engine.units ?? request.units;
      let stored: TrainingData | undefined;
      let fileData: TrainingData | undefined;
      if (resume) stored = trainingDataFromNpy(resume.data, units, resume.run.source);
      else if (request.data.kind === 'file') {
        if (!this.file)
          return this.fail('input', 'Choose an NPY or IDX file of training data first.', 'data');
        fileData = await fileTrainingData(this.file, units, request.data.binarize);
      }
      const shape =
        stored?.shape ??
        fileData?.shape ??
        (request.data.kind === 'ising' ? [request.data.L, request.data.L] : [28, 28]);
      const nv = shape.reduce((a, b) => a * b, 1);
      const n =
        stored?.n ??
        fileData?.n ??
        (request.data.kind === 'ising'
          ? request.data.perT * request.data.temperatures.length
          : request.data.kind === 'mnist'
            ? request.data.count
            : 0);
      const split = holdoutProblem(n, request.holdout);
      if (split) return this.fail('input', split.message, 'holdout');
      const trainN = trainingCount(n, request.holdout);
      if (request.training.batch > trainN)
        return this.fail(
          'input',
          `Batch ${request.training.batch} exceeds the ${trainN} training samples`,
          'batch',
        );
      let conv: ConvGeometry | undefined;
      let nh: number;
      const engineMeta = resume?.checkpoint.meta.engine;
      const up = uploaded?.model.rbm;
      if (engineMeta) {
        conv = engineMeta.conv ?? undefined;
        nh = engineMeta.nh;
      } else if (up) {
        const upNv = 'nv' in up ? up.nv : up.Lv * up.Lv;
        if (upNv !== nv)
          return this.fail(
            'input',
            `The uploaded model has nv = ${upNv} visible units; the data have ${nv} (shape [${shape}])`,
          );
        conv = 'nv' in up ? undefined : { Lv: up.Lv, filters: up.filters, k: up.k, stride: up.stride };
        nh = 'nv' in up ? up.nh : up.filters * (up.Lv / up.stride) ** 2;
      } else if (request.conv) {
        try {
          conv = convGeometry(request.conv, { nv, shape });
        } catch (err) {
          return this.fail('input', (err as Error).message, 'kernel');
        }
        nh = conv.filters * (conv.Lv / conv.stride) ** 2;
      } else nh = request.hidden!;
      const training = resume?.checkpoint.meta.training ?? request.training;
      const epochs = resume ? Math.max(resume.run.epochs, resume.checkpoint.meta.epochs) : request.epochs;
      const runShape = {
        nv,
        nh,
        ...(conv ? { conv } : {}),
        batch: training.batch,
        chains: training.pcd || training.batch,
        monitorRows: monitorRows(nv, trainN),
      };
      const limits = bufferProblems(device.limits, runShape);
      this.bufferNote = largestBuffer(device.limits, runShape);
      if (limits.length > 0) {
        this.status = 'error';
        this.errorKind = 'limits';
        this.problems = limits;
        return;
      }
      const engineOptions = {
        ...(conv ? { conv } : { nv, nh }),
        units,
        visibleBias: engineMeta?.visibleBias ?? (up ? uploaded!.model.biases.visible : request.visibleBias),
        hiddenBias: engineMeta?.hiddenBias ?? (up ? uploaded!.model.biases.hidden : request.hiddenBias),
        visibleBiasInit: engineMeta ? (engineMeta.visibleBiasInit ?? 'zero') : request.visibleBiasInit,
        seed: engineMeta ? BigInt(engineMeta.seed) : request.seed,
        initScale: request.initScale,
        initDistribution: request.init,
      };

      // 2. The estimate: a short timed probe of this geometry on this adapter, against the cap.
      const updatesPerEpoch = Math.floor(trainN / training.batch);
      if (!resume || resume.checkpoint.meta.epochs < epochs) {
        this.status = 'estimating';
        this.progress = { phase: 'probe', done: 0, total: 0 };
        const probe = await probeUpdateSeconds(device, engineOptions, training);
        if (signal.aborted) return this.stopped();
        this.estimate = epochEstimate(probe.secondsPerUpdate, probe.updates, updatesPerEpoch, epochs);
        const refused = capProblem(this.estimate, request.capMinutes);
        if (refused) {
          this.status = 'error';
          this.errorKind = 'cap';
          this.problems = [refused];
          return;
        }
      }
      if (!o.train) {
        this.status = this.saved ? 'resumable' : this.epoch > 0 ? 'complete' : 'idle';
        return;
      }

      // 3. The data: stored with a resumed run, else made now (and stored with the run).
      this.resetView();
      this.epochs = epochs;
      this.status = 'preparing';
      this.progress = {
        phase: request.data.kind === 'ising' && !stored ? 'thermalise' : 'load',
        done: 0,
        total: 0,
      };
      const all =
        stored ??
        fileData ??
        (await requestData(device, request.data, units, {
          signal,
          onProgress: (phase: DataPhase, done, total) => (this.progress = { phase, done, total }),
        }));
      if (signal.aborted) return this.stopped();
      if (all.nv !== nv) throw new Error(`the data have ${all.nv} units per sample; expected ${nv}`);
      const holdoutFraction = resume?.checkpoint.meta.data.holdout ?? request.holdout;
      const seed = engineMeta ? Number(engineMeta.seed) : request.seed;
      const { train, holdout } =
        holdoutFraction > 0 ? splitHoldout(all, holdoutFraction, seed) : { train: all, holdout: null };
      const print = fingerprint(train.data);
      if (resume && resume.checkpoint.meta.data.fingerprint !== print)
        throw new Error(
          `the stored data give fingerprint ${print}; the checkpoint was trained on ${resume.checkpoint.meta.data.fingerprint}`,
        );
      this.dataInfo =
        `${formatCount(all.n)} samples of ${shape.join('×')} (${all.source}): ${formatCount(train.n)} for training` +
        (holdout ? `, ${formatCount(holdout.n)} held out` : '') +
        ` · fingerprint ${print}`;

      // 4. The engine, its training and (resumed or uploaded) state.
      rbm = new RbmEngine(device, engineOptions);
      if (up) {
        const p = engineParameters(uploaded!.model);
        const w = rbm.weightCount;
        rbm.setParameters({ W: p.subarray(0, w), a: p.subarray(w, w + nv), b: p.subarray(w + nv) });
      }
      rbm.setData(train.data, train.n);
      rbm.configureTraining(training);
      // A resumed run keeps its history; a run from an uploaded model starts its own (epoch 1 is its first), the
      // model's earlier epochs are recorded in the settings (startedFromEpochs).
      const history: EpochMetrics[] = resume ? (resume.checkpoint.model.history as EpochMetrics[]) : [];
      if (resume) rbm.restoreTrainingState(resume.checkpoint.state);
      this.modelInfo = conv
        ? `conv ${conv.filters}:${conv.k}:${conv.stride} on ${conv.Lv}×${conv.Lv}: ${formatCount(nv)} → ${formatCount(nh)} hidden, ${formatCount(rbm.weightCount)} weights`
        : `dense ${formatCount(nv)} × ${formatCount(nh)}: ${formatCount(rbm.weightCount)} weights (${formatBytes(rbm.weightCount * 4)})`;
      const store = await this.openStore();
      const runId = resume?.run.id ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const record: TrainerRun = resume?.run ?? {
        id: runId,
        epochs,
        form: { ...this.form },
        preset: this.preset,
        source: all.source,
        ...(uploaded ? { startedFrom: uploaded.names } : {}),
      };
      const dataBytes = resume?.data ?? trainingDataNpy(all);
      this.dataFile = { name: 'data.npy', bytes: dataBytes };
      if (!resume) await store.beginRun(record, dataBytes);
      const checkpointRecord = {
        seed,
        data: { source: all.source, n: train.n, nv, shape, fingerprint: print, holdout: holdoutFraction },
        history,
        ...(this.adapter ? { adapter: adapterBrief(this.adapter) } : {}),
        settings: {
          epochsRequested: epochs,
          trainedIn: 'blockspin-rbm-trainer',
          ...(uploaded
            ? { startedFrom: uploaded.names, startedFromEpochs: uploaded.model.training.epochs ?? null }
            : resume?.run.startedFrom
              ? { startedFrom: resume.run.startedFrom }
              : {}),
        },
      };
      this.history = [...history];
      this.curveSpecs = this.buildCurves(
        history,
        Math.min(nv, nh) <= MAX_EXACT_UNITS && freeEnergyMonitored(nv, nh),
      );
      this.freeEnergySkipped = !freeEnergyMonitored(nv, nh);
      this.modelShape = `${nv} × ${nh}`;
      this.plotKey++;
      this.epoch = rbm.epochCount;
      this.saved = undefined;

      // 5. Epochs: train, measure, checkpoint, show.
      const perEpoch = rbm.batchesPerEpoch;
      let display: Float32Array | undefined;
      const showState = async (parameters: Float32Array, chains: Float32Array): Promise<void> => {
        const r = rbm!;
        this.filters = filterMosaic(parameters, { nv, nh, conv: conv ?? null }, shape, nv > 4096 ? 16 : 64);
        // 16 small configurations, or 4 large ones (a 128² sample needs its pixels).
        const count = Math.min(nv > 4096 ? 4 : SAMPLE_COUNT, train.n);
        this.samplesFromChains = chains.length >= count * nv;
        if (this.samplesFromChains) display = chains.slice(0, count * nv);
        else {
          display = await gibbsSample(r, count, DISPLAY_STEPS, {
            seed: seed + r.epochCount,
            start: display ?? train.data.slice(0, count * nv),
          });
        }
        this.samples = sampleMosaic(display, nv, shape, units, count);
      };
      if (resume || up) {
        const state = await rbm.trainingState();
        await showState(state.parameters, state.chains);
        this.lastFiles = stateCheckpointFiles(rbm, state, checkpointRecord);
        this.offerDownloads();
      }
      this.status = 'training';
      while (rbm.epochCount < epochs) {
        const t0 = performance.now();
        this.progress = { phase: 'train', done: rbm.updateCount, total: epochs * perEpoch };
        const result = await rbm.trainEpochs(1, {
          signal,
          onUpdates: (updates) => {
            this.progress = { phase: 'train', done: updates, total: epochs * perEpoch };
          },
        });
        if (result.aborted) break;
        const lr = learningRate(
          training.lr,
          training.schedule ?? { kind: 'constant' },
          rbm.updateCount / perEpoch,
        );
        const metrics = await epochMetrics(
          rbm,
          train,
          holdout,
          rbm.epochCount,
          lr,
          (performance.now() - t0) / 1000,
          {
            rows: monitorRows(rbm.nv, train.n),
            freeEnergy: freeEnergyMonitored(rbm.nv, rbm.nh),
          },
        );
        history.push(metrics);
        const state = await rbm.trainingState();
        const files = stateCheckpointFiles(rbm, state, checkpointRecord);
        await store.saveCheckpoint(runId, files, { epoch: rbm.epochCount, epochs });
        this.lastFiles = files;
        this.epoch = rbm.epochCount;
        this.history = [...history];
        this.plotEpoch(metrics);
        this.progress = { phase: 'train', done: rbm.updateCount, total: epochs * perEpoch };
        await showState(state.parameters, state.chains);
        this.offerDownloads();
        this.dispatchEvent(
          new CustomEvent<TrainerEpochDetail>('blockspin-epoch', {
            detail: { epoch: rbm.epochCount, epochs, metrics },
            bubbles: true,
            composed: true,
          }),
        );
      }
      const stopped = rbm.epochCount < epochs;
      if (stopped) {
        this.saved = { epoch: rbm.epochCount, epochs, saved: new Date().toISOString(), source: all.source };
        this.status = 'stopped';
      } else this.status = 'complete';
      this.dispatchEvent(
        new CustomEvent<TrainerTrainedDetail>('blockspin-trained', {
          detail: { epoch: rbm.epochCount, epochs, stopped, files: this.lastFiles },
          bubbles: true,
          composed: true,
        }),
      );
    } catch (err) {
      if (this.lostDevice || err instanceof DeviceLostError) {
        if (!this.lostDevice)
          this.fail(
            'lost',
            `The GPU device was lost: ${(err as Error).message}. The last epoch's checkpoint is kept.`,
          );
      } else if (isAbort(err) || signal.aborted) this.stopped();
      else if (err instanceof RbmDivergedError)
        this.fail('failed', `${err.message}; the checkpoint of epoch ${err.epoch - 1} is kept`, 'lr');
      else {
        const mnist = (err as Error).name === 'MnistUnavailableError';
        this.fail(
          mnist ? 'data' : 'failed',
          mnist ? `MNIST is not available in this page: ${(err as Error).message}` : (err as Error).message,
          mnist ? 'data' : undefined,
        );
        console.error(err);
      }
    } finally {
      rbm?.destroy();
      if (this.controller === controller) this.controller = undefined;
      // A run stopped short (or lost) leaves its checkpoint to resume; a complete one is shown as it is.
      if (this.status === 'stopped' || this.status === 'error') void this.lookForCheckpoint();
    }
  }

  private stopped(): void {
    if (this.status !== 'error') this.status = this.epoch > 0 ? 'stopped' : 'idle';
  }

  private offerDownloads(): void {
    revokeDownloads(this.downloads);
    const order = (name: string): number => {
      const i = (MODEL_FILE_NAMES as readonly string[]).indexOf(name);
      return i < 0 ? 10 : i;
    };
    this.downloads = downloadLinks(
      [...this.lastFiles, ...(this.dataFile ? [this.dataFile] : [])].sort(
        (a, b) => order(a.name) - order(b.name),
      ),
      mimeType,
    );
  }

  /**
   * Times CD-k updates of a preset's model (with `overrides`) on this adapter, on Ising configurations of the
   * preset's lattice generated for the purpose (short thermalisation: the values do not change the cost), for
   * bench/browser-rbm.ts. Nothing is stored or shown.
   *
   * @example const r = await trainer.benchmark({ preset: 'ising-128-conv', updates: 8 }); r.samplesPerSecond
   */
  async benchmark(o: {
    preset: string;
    overrides?: Record<string, string>;
    updates?: number;
    budgetSeconds?: number;
  }): Promise<TrainerBenchmark> {
    const device = this.gpu ?? (await elementDevice(this.device));
    const parsed = parseTrainerForm(presetForm(o.preset, o.overrides));
    if ('problems' in parsed) throw new Error(parsed.problems.map((p) => p.message).join('; '));
    const r = parsed.request;
    if (r.data.kind !== 'ising')
      throw new Error(`benchmark needs an Ising preset; ${o.preset} is ${r.data.kind}`);
    const L = r.data.L;
    const conv = r.conv ? convGeometry(r.conv, { nv: L * L, shape: [L, L] }) : undefined;
    const nv = L * L;
    const nh = conv ? conv.filters * (conv.Lv / conv.stride) ** 2 : r.hidden!;
    const batch = r.training.batch;
    const t0 = performance.now();
    const data = await requestData(
      device,
      { ...r.data, perT: Math.max(2 * batch, 8), therm: 20, tauSweeps: 20, every: 1 },
      r.units,
    );
    const dataSeconds = (performance.now() - t0) / 1000;
    const timed = await timeUpdates(
      device,
      { ...(conv ? { conv } : { nv, nh }), units: r.units },
      { ...r.training, pcd: 0 },
      { rows: data.data, n: data.n },
      { updates: o.updates ?? 8, budgetSeconds: o.budgetSeconds ?? 30 },
    );
    return {
      preset: o.preset,
      model: conv ? `conv ${conv.filters}:${conv.k}:${conv.stride} on ${L}×${L}` : `dense ${nv} × ${nh}`,
      nv,
      nh,
      batch,
      k: r.training.k ?? 1,
      samples: data.n,
      dataSeconds,
      updates: timed.updates,
      secondsPerUpdate: timed.secondsPerUpdate,
      samplesPerSecond: batch / timed.secondsPerUpdate,
    };
  }

  // ---- rendering ----

  private field(
    name: TrainerField,
    label: string | TemplateResult,
    o: {
      min?: number;
      max?: number;
      step?: number | 'any';
      type?: 'number' | 'text';
      className?: string;
      title?: string;
    } = {},
  ): TemplateResult {
    const invalid = this.problems.some((p) => p.field === name);
    return html`<label class=${o.className ?? nothing} title=${o.title ?? nothing}
      >${label}
      <input
        name=${name}
        type=${o.type ?? 'number'}
        step=${o.step ?? nothing}
        min=${o.min ?? nothing}
        max=${o.max ?? nothing}
        .value=${this.form[name]}
        aria-invalid=${invalid}
        ?disabled=${this.busy}
        data-testid=${`rbm-${name}`}
    /></label>`;
  }

  private select(
    name: TrainerField,
    label: string,
    options: [string, string][],
    className?: string,
  ): TemplateResult {
    return html`<label class=${className ?? nothing}
      >${label}
      <select name=${name} ?disabled=${this.busy} data-testid=${`rbm-${name}`} .value=${this.form[name]}>
        ${options.map(([v, text]) => html`<option value=${v} ?selected=${this.form[name] === v}>${text}</option>`)}
      </select></label
    >`;
  }

  private check_(name: TrainerField, label: string): TemplateResult {
    return html`<label class="check"
      ><input
        type="checkbox"
        name=${name}
        .checked=${this.form[name] === 'true'}
        ?disabled=${this.busy}
        data-testid=${`rbm-${name}`}
      />${label}</label
    >`;
  }

  private renderData(): TemplateResult {
    const f = this.form;
    return html`<fieldset>
      <legend>Data</legend>
      <div class="grid">
        ${this.select(
          'data',
          'Source',
          [
            ['ising', 'Ising (generate)'],
            ['file', 'NPY / IDX file'],
            ['mnist', 'MNIST digits'],
          ],
          'wide',
        )}
        ${this.field('holdout', 'Held out', { min: 0, max: 0.99, step: 'any', title: 'Fraction held out for monitoring (0: none)' })}
        ${
          f.data === 'ising'
            ? html`${this.field('L', 'L', { min: 2, step: 2 })}
              ${this.field('temperatures', 'T (list)', { type: 'text', className: 'wide' })}
              ${this.field('perT', 'Per T', { min: 1 })} ${this.field('therm', 'Therm. sweeps', { min: 0 })}
              ${this.field('every', 'Decorr. sweeps', { min: 1, title: 'Least sweeps between samples (τ_int decides when larger)' })}
              ${this.field('dataSeed', 'Data seed', { min: 0 })}
              ${this.select(
                'algorithm',
                'Update',
                [
                  ['metropolis', 'Metropolis'],
                  ['heatbath', 'Heat bath'],
                  ['sw', 'Swendsen–Wang'],
                ],
                'wide',
              )}`
            : f.data === 'mnist'
              ? html`${this.field('digits', 'Digits (empty: all)', { type: 'text', className: 'wide' })}
                ${this.field('mnistCount', 'Images', { min: 1, max: 10000 })}
                ${this.field('binarize', 'Binarise at', { min: 0, max: 0.999, step: 'any' })}`
              : html`<label class="wide"
                    >File (.npy, .idx)
                    <input
                      type="file"
                      accept=".npy,.idx,.idx1-ubyte,.idx3-ubyte,application/octet-stream"
                      ?disabled=${this.busy}
                      data-testid="rbm-file"
                      @change=${(e: Event) => void this.onDataFile(e)}
                  /></label>
                  ${this.field('binarize', 'Binarise at', { min: 0, max: 0.999, step: 'any' })}
                  ${this.file ? html`<p class="info full" data-testid="rbm-file-info">${this.file.name}: ${this.file.info}</p>` : nothing}`
        }
      </div>
    </fieldset>`;
  }

  private renderModel(): TemplateResult {
    const f = this.form;
    return html`<fieldset>
      <legend>Model</legend>
      <div class="grid">
        ${this.select('model', 'Weights', [
          ['dense', 'Dense'],
          ['conv', 'Conv'],
        ])}
        ${this.select('units', 'Units', [
          ['ising', 'Ising ±1'],
          ['bernoulli', 'Bernoulli 0/1'],
        ])}
        ${
          f.model === 'dense'
            ? this.field('hidden', 'Hidden units', { min: 1 })
            : html`${this.field('filters', 'Filters F', { min: 1 })}
              ${this.field('kernel', 'Filter k', { min: 1 })} ${this.field('stride', 'Stride s', { min: 1 })}`
        }
      </div>
      <details>
        <summary>Initialisation and biases</summary>
        <div class="grid">
          ${this.field('initScale', 'Init scale', { min: 0, step: 'any' })}
          ${this.select('init', 'Init', [
            ['normal', 'Normal'],
            ['uniform', 'Uniform'],
          ])}
          ${this.select('visibleBiasInit', 'Visible bias', [
            ['log-odds', 'Log-odds'],
            ['zero', 'Zero'],
          ])}
          ${this.check_('visibleBias', 'Visible bias')} ${this.check_('hiddenBias', 'Hidden bias')}
        </div>
      </details>
      <div class="info">
        Continue from a model:
        <input
          type="file"
          multiple
          accept=".json,.npy"
          ?disabled=${this.busy}
          data-testid="rbm-upload"
          title="model.json, W.npy, a.npy, b.npy (a model directory written by the CLI or this page)"
          @change=${(e: Event) => void this.onModelUpload(e)}
        />
        ${
          this.uploaded
            ? html`<div data-testid="rbm-uploaded">
                Starting from the uploaded ${this.modelInfo} (${this.uploaded.model.history.length} epochs of
                history).
                <button type="button" @click=${() => (this.uploaded = undefined)}>Forget</button>
              </div>`
            : nothing
        }
      </div>
    </fieldset>`;
  }

  private renderTraining(): TemplateResult {
    const f = this.form;
    return html`<fieldset>
      <legend>Training</legend>
      <div class="grid">
        ${this.select('method', 'Method', [
          ['cd', 'CD-k'],
          ['pcd', 'PCD-k'],
        ])}
        ${this.field('k', 'k (Gibbs)', { min: 1, max: 1000 })}
        ${f.method === 'pcd' ? this.field('chains', 'Chains', { min: 1 }) : this.check_('meanField', 'Mean-field end')}
        ${this.select('optimizer', 'Optimiser', [
          ['sgd', 'SGD'],
          ['momentum', 'Momentum'],
          ['adam', 'Adam'],
        ])}
        ${this.field('lr', 'Learning rate', { min: 0, step: 'any' })}
        ${f.optimizer === 'momentum' ? this.field('momentum', 'Momentum', { min: 0, max: 0.999, step: 'any' }) : html`<span></span>`}
        ${this.select('schedule', 'Schedule', [
          ['constant', 'Constant'],
          ['sqrt', '1/√(1+ct)'],
          ['exp', 'Exponential'],
        ])}
        ${
          f.schedule === 'sqrt'
            ? html`${this.field('scheduleFinal', 'Final lr', { min: 0, step: 'any' })}
              ${this.field('scheduleEpochs', 'Over epochs', { min: 0, step: 'any' })}`
            : f.schedule === 'exp'
              ? html`${this.field('gamma', 'γ per epoch', { min: 0, step: 'any' })}<span></span>`
              : html`<span></span><span></span>`
        }
        ${this.field('l2', 'L2 decay', { min: 0, step: 'any' })}
        ${this.field('l1', 'L1 decay', { min: 0, step: 'any' })} ${this.field('batch', 'Batch', { min: 1 })}
        ${this.field('epochs', 'Epochs', { min: 1 })} ${this.field('seed', 'Seed', { min: 0 })}
        ${this.field('capMinutes', 'Cap (min/epoch)', {
          min: 0,
          step: 'any',
          title: 'Runs whose estimated time per epoch exceeds this are refused before they start',
        })}
      </div>
    </fieldset>`;
  }

  private renderSettings(): TemplateResult {
    const preset = TRAINER_PRESETS.find((p) => p.id === this.preset);
    const overrides = formOverrides(this.preset, this.form);
    return html`<section aria-label="Settings">
      <div class="title"><h2>Settings</h2></div>
      <form @change=${this.onFormChange} @submit=${this.onSubmit} novalidate>
        <label
          >Preset
          <select name="preset" ?disabled=${this.busy} data-testid="rbm-preset" .value=${this.preset}>
            ${TRAINER_PRESETS.map((p) => html`<option value=${p.id} ?selected=${p.id === this.preset}>${p.label}</option>`)}
          </select></label
        >
        ${
          preset
            ? html`<p class="note" data-testid="rbm-preset-note">
                ${preset.note}
                ${Object.keys(overrides).length > 0 ? html`<br /><i>Changed: ${Object.keys(overrides).join(', ')}.</i>` : nothing}
              </p>`
            : nothing
        }
        ${this.renderData()} ${this.renderModel()} ${this.renderTraining()}
        <div class="actions">
          ${jobButtons({
            disabled: this.busy || !this.gpu || this.errorKind === 'lost',
            run: { label: 'Train', testId: 'rbm-train' },
            stop: { label: 'Stop', testId: 'rbm-stop', disabled: !this.busy, onClick: () => this.onStop() },
          })}
          <button
            type="button"
            ?disabled=${this.busy || !this.gpu || this.errorKind === 'lost'}
            data-testid="rbm-estimate-button"
            @click=${this.onEstimate}
          >
            Estimate
          </button>
        </div>
        ${this.storeNote ? html`<p class="note" data-testid="rbm-store">${this.storeNote}</p>` : nothing}
      </form>
    </section>`;
  }

  /**
   * The curves of a run, built once per run from the history so far (a resumed run's included); each epoch then
   * streams one point per curve with addPoint (a plot is re-created per run, keyed by `plotKey`).
   */
  private buildCurves(history: readonly EpochMetrics[], hasLL: boolean): CurveSpec[] {
    const specs: Omit<CurveSpec, 'data'>[] = [
      {
        id: 'rbm-curve-recon',
        heading: 'Reconstruction error',
        y: 'fraction of units',
        series: [
          { label: 'train', style: 'linepoints' },
          { label: 'held out', style: 'linepoints' },
        ],
        values: (m) => [m.reconstructionError.train, m.reconstructionError.holdout],
      },
      {
        id: 'rbm-curve-gap',
        heading: 'Free-energy gap',
        y: 'nats per sample',
        series: [{ label: 'F(held out) − F(train)', style: 'linepoints' }],
        values: (m) => [m.freeEnergy?.gap ?? null],
      },
      {
        id: 'rbm-curve-pll',
        heading: hasLL ? 'Log-likelihood' : 'Pseudo-log-likelihood',
        y: 'nats per sample',
        series: [
          { label: 'PLL train', style: 'linepoints' },
          { label: 'PLL held out', style: 'linepoints' },
          ...(hasLL
            ? [
                { label: 'LL train', dash: true },
                { label: 'LL held out', dash: true },
              ]
            : []),
        ],
        values: (m) => [
          m.pseudoLogLikelihood?.train ?? null,
          m.pseudoLogLikelihood?.holdout ?? null,
          ...(hasLL ? [m.logLikelihood?.train ?? null, m.logLikelihood?.holdout ?? null] : []),
        ],
      },
    ];
    return specs.map((c) => {
      const rows = history.map((m) => c.values(m));
      return {
        ...c,
        data: { x: history.map((m) => m.epoch), y: c.series.map((_, i) => rows.map((r) => r[i] ?? null)) },
      };
    });
  }

  /** Streams an epoch's metrics into the plots. */
  private plotEpoch(m: EpochMetrics): void {
    for (const c of this.curveSpecs) {
      const plot = this.renderRoot.querySelector<BlockspinPlot>(`blockspin-plot[data-testid="${c.id}"]`);
      plot?.addPoint(m.epoch, c.values(m));
    }
  }

  private renderOutput(): TemplateResult {
    const fe = this.freeEnergySkipped;
    return html`<section aria-label="Training">
      <div class="title">
        <h2>Training <small>${this.modelInfo}</small></h2>
        <span class="state" data-status=${this.status} data-testid="rbm-status">${this.statusText()}</span>
      </div>
      ${
        this.saved && !this.busy
          ? html`<div
              class="banner"
              data-testid="rbm-saved"
              data-epoch=${this.saved.epoch}
              data-epochs=${this.saved.epochs}
            >
              <span
                >Saved checkpoint: epoch ${this.saved.epoch} of ${this.saved.epochs} · ${this.saved.source} ·
                ${new Date(this.saved.saved).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}</span
              >
              ${
                this.saved.epoch < this.saved.epochs
                  ? html`<button
                      class="primary"
                      type="button"
                      data-testid="rbm-resume"
                      ?disabled=${!this.gpu || this.errorKind === 'lost'}
                      @click=${() => void this.onResume()}
                    >
                      Resume epoch ${this.saved.epoch} of ${this.saved.epochs}
                    </button>`
                  : html`<button
                      type="button"
                      data-testid="rbm-resume"
                      ?disabled=${!this.gpu || this.errorKind === 'lost'}
                      @click=${() => void this.onResume()}
                    >
                      Open
                    </button>`
              }
              <button type="button" data-testid="rbm-discard" @click=${() => void this.onDiscard()}>
                Discard
              </button>
              <span class="note">Train starts afresh and replaces it.</span>
            </div>`
          : nothing
      }
      ${this.busy || this.epoch > 0 ? progressLine('rbm-progress', this.progress, html`<b>${this.progressHeading()}</b>`, this.progress.phase === 'train' ? 'updates' : this.progress.phase === 'load' ? '' : 'sweeps', '…') : nothing}
      ${
        this.estimate
          ? html`<p
              class="estimate"
              data-testid="rbm-estimate"
              data-seconds-per-epoch=${this.estimate.secondsPerEpoch.toPrecision(4)}
            >
              <b>Estimate:</b> ${describeEstimate(this.estimate)}; cap ${this.form.capMinutes} min per epoch.
              <span class="note"
                >The monitor and checkpoint of each epoch come on top; ${this.bufferNote}.</span
              >
            </p>`
          : nothing
      }
      ${this.status === 'error' && this.problems.length > 0 ? problemList('rbm-error', this.problems) : nothing}
      ${this.dataInfo ? html`<p class="info" data-testid="rbm-data-info">${this.dataInfo}</p>` : nothing}
      <div class="live">
        <figure>
          <figcaption>
            <b>Filters</b>
            ${
              this.filters
                ? html`${
                    this.modelInfo.startsWith('conv')
                      ? `${this.filters.tiles} filter${this.filters.tiles === 1 ? '' : 's'}`
                      : `hidden units 1–${this.filters.tiles}`
                  }
                  · blue −, red + · |W| ≤ ${this.filters.scale.toPrecision(3)}`
                : nothing
            }
          </figcaption>
          ${this.filters ? nothing : html`<div class="empty">Filters appear after the first epoch</div>`}
          <canvas
            data-testid="rbm-filters"
            data-tiles=${this.filters?.tiles ?? 0}
            ?hidden=${!this.filters}
          ></canvas>
        </figure>
        <figure>
          <figcaption>
            <b>Samples</b>
            ${
              this.samples
                ? this.samplesFromChains
                  ? 'the training’s persistent (PCD) chains'
                  : `display chains, +${DISPLAY_STEPS} Gibbs steps per epoch`
                : nothing
            }
          </figcaption>
          ${this.samples ? nothing : html`<div class="empty">Samples appear after the first epoch</div>`}
          <canvas
            data-testid="rbm-samples"
            data-tiles=${this.samples?.tiles ?? 0}
            ?hidden=${!this.samples}
          ></canvas>
        </figure>
        ${this.curveSpecs.map((c) =>
          fe && c.id !== 'rbm-curve-recon'
            ? html`<figure data-testid=${c.id} data-points="0">
                <figcaption><b>${c.heading}</b></figcaption>
                <div class="empty">
                  Not monitored: the free energies need the conv filters expanded to a dense
                  ${this.modelShape} matrix, over the ${formatBytes(MONITOR_DENSE_BYTES)} the trainer allows
                  for it
                </div>
              </figure>`
            : keyed(
                `${this.plotKey}-${c.id}`,
                html`<blockspin-plot
                  data-testid=${c.id}
                  .heading=${c.heading}
                  .xLabel=${'epoch'}
                  .yLabel=${c.y}
                  .height=${160}
                  .series=${c.series}
                  .data=${c.data}
                  .placeholder=${'One point per epoch'}
                ></blockspin-plot>`,
              ),
        )}
      </div>
      ${
        this.downloads.length > 0
          ? html`<div class="downloads" data-testid="rbm-downloads">
              <b>Download</b> epoch ${this.epoch} into a directory DIR: the first four are the model (<code
                >blockspin rbm eval|sample --model DIR</code
              >), all of them continue the run (<code
                >blockspin rbm train --data DIR/data.npy --resume DIR --out DIR --epochs N</code
              >):
              ${this.downloads.map(
                (d) =>
                  html`<a href=${d.url} download=${d.name} data-testid="rbm-download" data-name=${d.name}
                      >${d.name}</a
                    >
                    <span class="note">${formatBytes(d.size)}</span> `,
              )}
            </div>`
          : nothing
      }
    </section>`;
  }

  private progressHeading(): string {
    switch (this.progress.phase) {
      case 'probe':
        return 'Timing a few updates';
      case 'thermalise':
        return 'Data: thermalising';
      case 'tau':
        return 'Data: measuring τ_int';
      case 'sample':
        return 'Data: sampling';
      case 'load':
        return 'Data: loading';
      default:
        return `Epoch ${Math.min(this.epoch + (this.busy ? 1 : 0), this.epochs)} of ${this.epochs}`;
    }
  }

  private statusText(): string {
    return statusText(this.status, this.errorKind, {
      estimating: 'Timing…',
      preparing: 'Making data…',
      training: 'Training…',
      stopped: 'Stopped',
      resumable: 'Checkpoint saved',
    });
  }

  override render(): TemplateResult {
    return html`<div class="layout">${this.renderSettings()} ${this.renderOutput()}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'blockspin-rbm-trainer': BlockspinRbmTrainer;
  }
  interface HTMLElementEventMap {
    'blockspin-epoch': CustomEvent<TrainerEpochDetail>;
    'blockspin-trained': CustomEvent<TrainerTrainedDetail>;
    'blockspin-settings-change': CustomEvent<TrainerSettingsDetail>;
  }
}
