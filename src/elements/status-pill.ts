import { css } from 'lit';

/**
 * The status pill shared by the demo's cards (`<span class="state" data-status="…">`): grey by default,
 * then one colour per kind of status — busy (blue), good (green), attention (amber), failure (red).
 */
export const statusPillStyles = css`
  .state {
    font-size: 0.8rem;
    font-weight: 600;
    padding: 1px 10px;
    border-radius: 999px;
    background: #e8ebf0;
    color: var(--muted, #5b6677);
  }
  .state[data-status='generating'] {
    background: #e6edfb;
    color: var(--accent, #2456c7);
  }
  .state[data-status='running'],
  .state[data-status='complete'] {
    background: #e3f3ea;
    color: var(--ok, #1d7a46);
  }
  .state[data-status='paused'],
  .state[data-status='incomplete'] {
    background: #fff4dc;
    color: #8a5a00;
  }
  .state[data-status='error'] {
    background: #fbe9e7;
    color: var(--bad, #b3261e);
  }
`;
