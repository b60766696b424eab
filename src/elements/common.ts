/**
 * What the demo's cards share (<ising-view>, <dataset-panel>, <mcrg-panel>, <study-panel>): the card and form
 * styles, the error list, buttons and progress line of a long GPU job, labelled form inputs, download links
 * for the files a job wrote, the `data-status`/`data-error` hooks on the host, the status pill's words,
 * device-pixel canvas sizing, and FormCard, the state of a card whose settings form starts a job. One copy
 * here, so the cards look and behave alike.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { property, state } from 'lit/decorators.js';
import { statusPillStyles } from './status-pill.ts';

/**
 * The card itself (every panel): host, section, title row, heading, status pill, primary and disabled buttons,
 * the look of notes and of the error box (each card places them: margins, padding).
 */
export const panelStyles = [
  statusPillStyles,
  css`
    :host {
      display: block;
      color: var(--ink, #1b2330);
    }
    section {
      background: var(--panel, #ffffff);
      border: 1px solid var(--line, #dde2ea);
      border-radius: 12px;
      padding: 20px 22px;
      box-shadow: 0 1px 2px rgb(20 30 50 / 5%);
    }
    .title {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      justify-content: space-between;
      gap: 8px 16px;
      margin-bottom: 12px;
    }
    h2 {
      margin: 0;
      font-size: 1.05rem;
    }
    h2 small {
      margin-left: 8px;
      font-weight: 400;
      color: var(--muted, #5b6677);
    }
    button.primary {
      background: var(--accent, #2456c7);
      border-color: var(--accent, #2456c7);
      color: #fff;
    }
    button:disabled,
    select:disabled,
    input:disabled {
      opacity: 0.55;
      cursor: not-allowed;
    }
    .note {
      font-size: 0.85rem;
      color: var(--muted, #5b6677);
    }
    .error {
      border: 1px solid #f0c4bf;
      border-radius: 8px;
      background: #fffafa;
      color: var(--bad, #b3261e);
    }
  `,
];

/**
 * A settings form that starts a long GPU job (the data-set and MCRG panels): labelled fields in a wrapping
 * row, the buttons, notes, the error list (problemList) and the progress line (progressLine).
 */
export const formStyles = css`
  form {
    display: flex;
    flex-wrap: wrap;
    align-items: end;
    gap: 10px 14px;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 3px;
    font-size: 0.85rem;
    color: var(--muted, #5b6677);
  }
  input,
  select,
  button {
    font: inherit;
    font-size: 0.95rem;
    border-radius: 8px;
    padding: 5px 10px;
    border: 1px solid var(--line, #dde2ea);
    background: #fff;
    color: var(--ink, #1b2330);
  }
  input,
  select {
    box-sizing: border-box;
    height: 34px;
  }
  input[aria-invalid='true'],
  select[aria-invalid='true'] {
    border-color: var(--bad, #b3261e);
    background: #fffafa;
  }
  .buttons {
    display: flex;
    gap: 10px;
  }
  button {
    padding: 6px 14px;
    font-weight: 600;
    cursor: pointer;
  }
  .note {
    margin: 10px 0 0;
  }
  .error {
    margin: 12px 0 0;
    padding: 8px 14px;
  }
  .error ul {
    margin: 0;
    padding-left: 18px;
  }
  .progress {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px 12px;
    margin: 12px 0 0;
    font-size: 0.9rem;
    font-variant-numeric: tabular-nums;
  }
  progress {
    width: 180px;
    accent-color: var(--accent, #2456c7);
  }
`;

/** A count as the cards print it: `12,345`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Reflects a card's state on its host for tests: `data-status`, and `data-error` while the status is `error`. */
export function reflectStatus(host: HTMLElement, status: string, errorKind: string | undefined): void {
  host.dataset.status = status;
  if (status === 'error' && errorKind) host.dataset.error = errorKind;
  else delete host.dataset.error;
}

/** A labelled `<input>` of a settings form (the label wraps it; `aria-invalid` marks a named problem). */
export interface InputFieldOptions {
  label: string | TemplateResult;
  name: string;
  /** The text shown (a property binding: what the user typed survives a re-render). */
  value: string;
  invalid: boolean;
  disabled: boolean;
  testId: string;
  /** Default `number`. */
  type?: 'number' | 'text';
  min?: number;
  max?: number;
  step?: number;
  className?: string;
  inputmode?: 'decimal';
  spellcheck?: false;
}

/**
 * One labelled input of a settings form.
 *
 * @example
 * inputField({ label: 'Seed', name: 'seed', min: 0, value: f.seed, invalid, disabled, testId: 'mcrg-seed' })
 */
export function inputField(o: InputFieldOptions): TemplateResult {
  return html`<label
    >${o.label}
    <input
      class=${o.className ?? nothing}
      name=${o.name}
      type=${o.type ?? 'number'}
      inputmode=${o.inputmode ?? nothing}
      spellcheck=${o.spellcheck === false ? 'false' : nothing}
      step=${o.step ?? nothing}
      min=${o.min ?? nothing}
      max=${o.max ?? nothing}
      .value=${o.value}
      aria-invalid=${o.invalid}
      ?disabled=${o.disabled}
      data-testid=${o.testId}
  /></label>`;
}

/** The problems of a card (`role="alert"`): each `<li>` is `<testId>-message`, with `data-field` when given. */
export function problemList(
  testId: string,
  problems: readonly { message: string; field?: string }[],
): TemplateResult {
  return html`<div class="error" role="alert" data-testid=${testId}>
    <ul>
      ${problems.map(
        (p) => html`<li data-testid="${testId}-message" data-field=${p.field ?? nothing}>${p.message}</li>`,
      )}
    </ul>
  </div>`;
}

/** The Run/Start and Stop/Cancel buttons of a form card (the first submits the form). */
export interface JobButtonsOptions {
  /** The form is locked (a job runs, the device is lost or missing). */
  disabled: boolean;
  run: { label: string | TemplateResult; testId: string };
  stop: { label: string; testId: string; disabled: boolean; onClick: () => void };
}

/** The buttons of a form card: the primary submit button and the one that stops the job. */
export function jobButtons(o: JobButtonsOptions): TemplateResult {
  return html`<div class="buttons">
    <button class="primary" type="submit" ?disabled=${o.disabled} data-testid=${o.run.testId}>
      ${o.run.label}
    </button>
    <button type="button" ?disabled=${o.stop.disabled} data-testid=${o.stop.testId} @click=${o.stop.onClick}>
      ${o.stop.label}
    </button>
  </div>`;
}

/** A file a card offers for download: its name, size in bytes and object URL (revokeDownloads frees it). */
export interface DownloadLink {
  name: string;
  size: number;
  url: string;
}

/** Object URLs for files a job produced; `type` gives each file's MIME type from its name. */
export function downloadLinks(
  files: readonly { name: string; bytes: Uint8Array }[],
  type: (name: string) => string,
): DownloadLink[] {
  return files.map((f) => ({
    name: f.name,
    size: f.bytes.byteLength,
    url: URL.createObjectURL(
      // The engines' file bytes live on ordinary ArrayBuffers (TextEncoder, encodeNpy; never shared), as Blob needs.
      new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: type(f.name) }),
    ),
  }));
}

/** Frees the object URLs of downloadLinks. */
export function revokeDownloads(links: readonly DownloadLink[] | undefined): void {
  for (const link of links ?? []) URL.revokeObjectURL(link.url);
}

/** A file size as the cards print it: `512 B`, `3.5 KiB`, `1.2 MiB`. */
export function formatBytes(n: number): string {
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Where a long job is: its phase and the work done of the total (both in the phase's unit). */
export interface JobProgress {
  phase: string;
  done: number;
  total: number;
}

/**
 * The progress line of a long job (`role="status"`; `data-phase`, `data-done`, `data-total` for tests):
 * `heading`, a bar and `done / total unit`, or `pending` while the total is 0 when given.
 */
export function progressLine(
  testId: string,
  p: JobProgress,
  heading: TemplateResult,
  unit: string,
  pending?: string,
): TemplateResult {
  return html`<div
    class="progress"
    role="status"
    data-testid=${testId}
    data-phase=${p.phase}
    data-done=${p.done}
    data-total=${p.total}
  >
    ${heading}
    <progress max=${Math.max(1, p.total)} .value=${p.total > 0 ? p.done : 0}></progress>
    <span
      >${p.total > 0 || pending === undefined ? `${formatCount(p.done)} / ${formatCount(p.total)} ${unit}` : pending}</span
    >
  </div>`;
}

/**
 * Gives `canvas` the device-pixel size its ResizeObserver entry reports (one texel per device pixel, so
 * whole pixels per site stay crisp). Returns true when the size changed (the canvas was cleared).
 */
export function fitCanvas(canvas: HTMLCanvasElement, entry: ResizeObserverEntry): boolean {
  const device = entry.devicePixelContentBoxSize?.[0];
  const box = entry.contentBoxSize[0];
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(device ? device.inlineSize : (box?.inlineSize ?? 1) * dpr));
  const height = Math.max(1, Math.round(device ? device.blockSize : (box?.blockSize ?? 1) * dpr));
  if (canvas.width === width && canvas.height === height) return false;
  canvas.width = width;
  canvas.height = height;
  return true;
}

/** The status pill's words every card shares. */
const COMMON_STATUS_TEXT = { waiting: 'Waiting for a device', idle: 'Ready', complete: 'Complete' } as const;

/**
 * The status pill's text: `own` words for the card's own statuses, the shared ones for `waiting`, `idle` and
 * `complete`, and for `error` its kind (`lost`: Device lost; `input` or `params`: Bad settings; else Error).
 *
 * @example statusText(this.status, this.errorKind, { running: 'Running…', stopped: 'Stopped' })
 */
export function statusText<S extends string>(
  status: S,
  errorKind: string | undefined,
  own: Record<Exclude<S, 'error' | keyof typeof COMMON_STATUS_TEXT>, string>,
): string {
  if (status === 'error') {
    if (errorKind === 'lost') return 'Device lost';
    return errorKind === 'input' || errorKind === 'params' ? 'Bad settings' : 'Error';
  }
  return (
    (own as Record<string, string>)[status] ?? COMMON_STATUS_TEXT[status as keyof typeof COMMON_STATUS_TEXT]
  );
}

/**
 * Calls `onLost` with the reason when `device` is lost while it is still the card's device (`current()`);
 * a card that has moved on to another device ignores the old one's loss.
 */
export function whenLost(
  device: GPUDevice,
  current: () => GPUDevice | undefined,
  onLost: (reason: GPUDeviceLostReason) => void,
): void {
  void device.lost.then((info) => {
    if (device === current()) onLost(info.reason);
  });
}

/** Statuses every form card has; a card adds its own (running, complete, …). */
export type FormCardStatus = 'waiting' | 'idle' | 'error';

/** Why a form card stopped: bad settings, a failed job, the device lost. */
export type FormCardErrorKind = 'input' | 'failed' | 'lost';

/** A problem a form card shows; `field` names the setting it is about, when it is about one. */
export interface CardProblem {
  message: string;
  field?: string;
}

/**
 * A card whose settings form starts a long GPU job on `device` (<dataset-panel>, <mcrg-panel>,
 * <study-panel>). It holds the status, the problems shown and the job's controller, reflects them on the
 * host (reflectStatus), starts afresh on a new device and stops on its loss, and validates the form as it
 * is changed (no GPU work) and when it is submitted. A card says how to read and parse its form, how to
 * start and forget its job, and what is left of the last job once a bad setting is fixed.
 */
export abstract class FormCard<
  Status extends string,
  Form,
  Request,
  Problem extends CardProblem = CardProblem,
> extends LitElement {
  /** The device to run on (owned by the caller). Another device (or none) forgets the job. */
  @property({ attribute: false }) device: GPUDevice | undefined;

  @state() protected status: Status | FormCardStatus = 'waiting';
  @state() protected errorKind: FormCardErrorKind | undefined;
  /** Input problems (kind `input`), or what failed or was lost. */
  @state() protected problems: Problem[] = [];
  protected abstract form: Form;
  /** The job in flight (beginJob); aborting it stops the job, which returns what it has where it can. */
  protected controller: AbortController | undefined;

  /** True while the job runs (the form is locked). */
  protected abstract get busy(): boolean;
  /** The form's values; `changed` is the field whose change is being handled (none on submit). */
  protected abstract readForm(formElement: HTMLFormElement, changed?: HTMLInputElement): Form;
  protected abstract parse(form: Form): { request: Request } | { problems: Problem[] };
  /** Starts (or continues) the job with validated settings. */
  protected abstract start(request: Request): Promise<void>;
  /** Stops the job in flight and forgets it (a new device, the card taken out of the page). */
  protected abstract release(): void;
  /** Stops the job in flight because the device was lost; returns the problem that says so. */
  protected abstract stopOnLoss(reason: GPUDeviceLostReason): Problem;
  /** The status once a bad setting is fixed: what the last job left (`idle` without one). */
  protected abstract settledStatus(): Status | FormCardStatus;

  protected get lost(): boolean {
    return this.errorKind === 'lost';
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.release();
    if (this.status !== 'error' || this.errorKind !== 'lost') this.status = this.device ? 'idle' : 'waiting';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('device')) this.attach();
  }

  protected override updated(): void {
    reflectStatus(this, this.status, this.errorKind);
  }

  /** A new device (or none): forget the job on the old one, start afresh and listen for the new one's loss. */
  private attach(): void {
    this.release();
    const device = this.device;
    this.errorKind = undefined;
    this.problems = [];
    this.status = device ? 'idle' : 'waiting';
    if (!device) return;
    whenLost(
      device,
      () => this.device,
      (reason) => {
        const problem = this.stopOnLoss(reason);
        this.status = 'error';
        this.errorKind = 'lost';
        this.problems = [problem];
      },
    );
  }

  /** Shows input problems as soon as a field is changed (no GPU work). */
  protected onChange(event: Event): void {
    const target = event.target as HTMLInputElement;
    const formElement = target.closest('form');
    if (!formElement || this.busy || this.lost) return;
    this.form = this.readForm(formElement, target);
    this.check();
  }

  /** Validates the form; on a problem shows it (status `error`, kind `input`) and returns undefined. */
  protected check(): Request | undefined {
    const parsed = this.parse(this.form);
    if ('problems' in parsed) {
      this.status = 'error';
      this.errorKind = 'input';
      this.problems = parsed.problems;
      return undefined;
    }
    if (this.errorKind === 'input') {
      this.errorKind = undefined;
      this.problems = [];
      this.status = this.settledStatus();
    }
    return parsed.request;
  }

  /** A new job: clears the problems shown and makes a new controller the current one (returned). */
  protected beginJob(): AbortController {
    this.errorKind = undefined;
    this.problems = [];
    const controller = new AbortController();
    this.controller = controller;
    return controller;
  }

  /** Shows why a job failed (status `error`, kind `failed`; `prefix` and `field` as the card words it). */
  protected showFailure(err: unknown, prefix = '', field?: Problem['field']): void {
    const message = `${prefix}${err instanceof Error ? err.message : String(err)}`;
    this.status = 'error';
    this.errorKind = 'failed';
    this.problems = [(field === undefined ? { message } : { field, message }) as Problem];
    console.error(err);
  }

  /** Reads the form's current values (Enter may submit before a `change` event has been handled). */
  protected onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    if (this.busy || this.lost) return;
    this.form = this.readForm(event.target as HTMLFormElement);
    const request = this.check();
    if (request) void this.start(request);
  }

  /** The problems, while the status is `error` (problemList). */
  protected renderProblems(testId: string): TemplateResult | typeof nothing {
    if (this.status !== 'error' || this.problems.length === 0) return nothing;
    return problemList(testId, this.problems);
  }
}
