import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { AdapterSummary } from '../../src/index.ts';
import { DEFAULT_FORM } from '../../src/elements/rbm-options.ts';
import '../../src/elements/rbm-trainer.ts';
import type { TrainerSettingsDetail } from '../../src/elements/rbm-trainer.ts';
import { setUrlParams, urlParams } from './url-state.ts';

/** The form's fields, which the URL may carry beside `preset`. */
const FIELDS = Object.keys(DEFAULT_FORM);

/**
 * `<rbm-room>`, the lab's RBM training room (`?room=rbm`): the `<blockspin-rbm-trainer>` on the lab's device,
 * with its settings in the address bar (`?room=rbm&preset=ising-128-conv&epochs=3`), so a link reopens them.
 */
@customElement('rbm-room')
export class RbmRoom extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    .note {
      margin: 0 0 10px;
      font-size: 0.85rem;
      color: var(--muted, #5b6677);
    }
    .waiting {
      padding: 20px;
      color: var(--muted, #5b6677);
    }
  `;

  /** The lab's device (none while it is being acquired). */
  @property({ attribute: false }) device: GPUDevice | undefined;
  @property({ attribute: false }) adapter: AdapterSummary | undefined;

  private readonly preset = urlParams().get('preset') ?? undefined;
  private readonly overrides = Object.fromEntries(
    [...urlParams().entries()].filter(([key]) => FIELDS.includes(key)),
  );

  private onSettings(event: CustomEvent<TrainerSettingsDetail>): void {
    const updates: Record<string, string | undefined> = { preset: event.detail.preset };
    for (const key of FIELDS) updates[key] = event.detail.overrides[key];
    setUrlParams(updates);
  }

  override render(): TemplateResult {
    if (!this.device)
      return html`<p class="waiting" data-testid="rbm-room-waiting">Waiting for a GPU device…</p>`;
    return html`
      <p class="note">
        The same training as <code>npx blockspin rbm train</code>, in this page: every epoch is checkpointed
        in this browser, so a reload or a lost device resumes where the run stopped; the downloads are a model
        directory the CLI reads.
        ${
          this.adapter?.software
            ? html`<b>This adapter is a CPU implementation (${this.adapter.architecture}):</b> small lattices
                train in seconds, 128² needs a GPU.`
            : nothing
        }
      </p>
      <blockspin-rbm-trainer
        .device=${this.device}
        .adapter=${this.adapter}
        .preset=${this.preset ?? 'ising-32-quick'}
        .settings=${this.overrides}
        @blockspin-settings-change=${this.onSettings}
      ></blockspin-rbm-trainer>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rbm-room': RbmRoom;
  }
}
