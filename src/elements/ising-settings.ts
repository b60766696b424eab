/**
 * The Ising view's settings and the URL parameters that set them (`?L=&T=&kernel=`), apart from the Lit
 * component so that the parsing can be tested without a browser.
 */
import { resolveIsingConfig, type IsingAlgorithm, type IsingKernel } from '../index.ts';

/** Everything that defines the simulation shown. */
export interface IsingViewSettings {
  L: number;
  kernel: IsingKernel;
  T: number;
  h: number;
  algorithm: IsingAlgorithm;
  sweepsPerFrame: number;
  seed: number;
}

export const DEFAULT_SETTINGS: Readonly<IsingViewSettings> = Object.freeze({
  L: 512,
  kernel: 'packed',
  T: 2.269,
  h: 0,
  algorithm: 'metropolis',
  sweepsPerFrame: 4,
  seed: 1,
});

/** The algorithms the view offers, in this order (Swendsen–Wang has no field term: it runs at h = 0). */
export const ALGORITHMS: readonly { value: IsingAlgorithm; label: string }[] = [
  { value: 'metropolis', label: 'Metropolis' },
  { value: 'heatbath', label: 'Heat-bath' },
  { value: 'sw', label: 'Swendsen–Wang (h = 0)' },
];

/**
 * The settings after choosing `algorithm`: Swendsen–Wang sets the field to 0 (the engine refuses it in a field).
 * @example chooseAlgorithm({ ...DEFAULT_SETTINGS, h: 0.3 }, 'sw') // { ..., algorithm: 'sw', h: 0 }
 */
export function chooseAlgorithm(settings: IsingViewSettings, algorithm: IsingAlgorithm): IsingViewSettings {
  return { ...settings, algorithm, h: algorithm === 'sw' ? 0 : settings.h };
}

/** The settings after moving the field to `h`: a field other than 0 leaves Swendsen–Wang for Metropolis. */
export function chooseField(settings: IsingViewSettings, h: number): IsingViewSettings {
  const leaves = settings.algorithm === 'sw' && h !== 0;
  return { ...settings, h, algorithm: leaves ? 'metropolis' : settings.algorithm };
}

export const T_RANGE = [0.5, 5] as const;
export const H_RANGE = [-1, 1] as const;
export const SWEEPS_RANGE = [1, 32] as const;
export const L_RANGE = [4, 8192] as const;

/**
 * Reads `?L=`, `?T=` and `?kernel=`; every bad value is named with its allowed range. The lattice must also
 * pass the engine's own rules for the chosen kernel (resolveIsingConfig: L even, a multiple of 32 for
 * `packed`), so a URL the engine would refuse is reported here, as a parameter problem. Such an L is kept in
 * the settings, so that choosing another kernel in the page can use it.
 *
 * @example
 * settingsFromQuery('?L=100').problems
 * // ["?L=100: kernel 'packed' needs L a multiple of 32; got L = 100 (add &kernel=simple for any even L)"]
 */
export function settingsFromQuery(search: string): { settings: IsingViewSettings; problems: string[] } {
  const query = new URLSearchParams(search);
  const settings: IsingViewSettings = { ...DEFAULT_SETTINGS };
  const problems: string[] = [];
  const L = query.get('L');
  let lOk = true;
  if (L !== null) {
    const n = Number(L);
    if (L.trim() === '' || !Number.isInteger(n) || n < L_RANGE[0] || n > L_RANGE[1]) {
      problems.push(`?L=${L}: L must be an integer in ${L_RANGE[0]} … ${L_RANGE[1]}`);
      lOk = false;
    } else settings.L = n;
  }
  const T = query.get('T');
  if (T !== null) {
    const x = Number(T);
    if (T.trim() === '' || !Number.isFinite(x) || x < T_RANGE[0] || x > T_RANGE[1]) {
      problems.push(`?T=${T}: T must be a number in ${T_RANGE[0]} … ${T_RANGE[1]}`);
    } else settings.T = x;
  }
  const kernel = query.get('kernel');
  let kernelOk = true;
  if (kernel !== null) {
    if (kernel !== 'packed' && kernel !== 'simple') {
      problems.push(`?kernel=${kernel}: kernel must be 'packed' or 'simple'`);
      kernelOk = false;
    } else settings.kernel = kernel;
  }
  if (lOk && kernelOk && (L !== null || kernel !== null)) {
    try {
      resolveIsingConfig({
        L: settings.L,
        T: settings.T,
        kernel: settings.kernel,
        algorithm: settings.algorithm,
        seed: settings.seed,
      });
    } catch (err) {
      const named = [L !== null ? `L=${L}` : '', kernel !== null ? `kernel=${kernel}` : '']
        .filter(Boolean)
        .join('&');
      const hint =
        settings.kernel === 'packed' && settings.L % 2 === 0 ? ' (add &kernel=simple for any even L)' : '';
      problems.push(`?${named}: ${(err as Error).message}${hint}`);
    }
  }
  return { settings, problems };
}
