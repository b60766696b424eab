/**
 * The lab's URL state: `?room=NAME` picks the room, and each room keeps its own settings as further query
 * parameters (e.g. `?room=ising&L=128&T=2.27`), so any view can be linked to and survives a reload.
 * Rooms read with {@link urlParams} and write with {@link setUrlParams} (replaceState: settings changes do not
 * fill the back button's history; changing room pushes a new entry).
 */

/** The current query parameters. */
export function urlParams(): URLSearchParams {
  return new URLSearchParams(location.search);
}

/**
 * Sets (or, with `undefined`, removes) query parameters and rewrites the address bar without reloading.
 * `push` adds a history entry (room changes), else the current entry is replaced (settings changes).
 */
export function setUrlParams(updates: Record<string, string | number | undefined>, push = false): void {
  const params = urlParams();
  for (const [key, value] of Object.entries(updates)) {
    if (value === undefined) params.delete(key);
    else params.set(key, String(value));
  }
  const search = params.toString();
  const url = `${location.pathname}${search ? `?${search}` : ''}${location.hash}`;
  if (url === `${location.pathname}${location.search}${location.hash}`) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}
