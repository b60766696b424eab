/**
 * The reproducible studies by name (`blockspin reproduce NAME`, the lab's study panels). Each is loaded on first
 * use, so the CLI and the page pay only for the study they run.
 */
import type { Study } from './study.ts';

/** Loads a study module and returns its Study. */
export type StudyLoader = () => Promise<Study<unknown>>;

// Each study's module is imported only when it is run.
const loaders = new Map<string, StudyLoader>([
  ['chung-kao', () => import('./chung-kao.ts').then((m) => m.chungKao)],
  ['rbm-flow', () => import('./rbm-flow.ts').then((m) => m.rbmFlowStudy)],
  ['mehta-schwab', () => import('./mehta-schwab.ts').then((m) => m.mehtaSchwabStudy)],
  ['qiu', () => import('./qiu.ts').then((m) => m.qiuStudy)],
]);

/** A study name: lowercase words joined by '-', e.g. `chung-kao`. */
export const STUDY_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The names of the registered studies, sorted. */
export function studyNames(): string[] {
  return [...loaders.keys()].sort();
}

/**
 * Registers a study under `name` (a plugin's, or a test's small fake); a name already taken is refused unless
 * `replace`.
 */
export function registerStudy(name: string, loader: StudyLoader, { replace = false } = {}): void {
  if (!STUDY_NAME.test(name)) {
    throw new Error(`study name '${name}' must be lowercase words joined by '-', e.g. chung-kao`);
  }
  if (loaders.has(name) && !replace) throw new Error(`a study named '${name}' is already registered`);
  loaders.set(name, loader);
}

/** Throws, naming the registered studies, unless `name` is one. */
export function checkStudyName(name: string): void {
  if (!loaders.has(name)) {
    throw new Error(`unknown study '${name}'; the studies are: ${studyNames().join(', ')}`);
  }
}

/** Loads the study `name` (see {@link checkStudyName} for the error on an unknown name). */
export async function loadStudy(name: string): Promise<Study<unknown>> {
  checkStudyName(name);
  const study = await loaders.get(name)!();
  if (study.name !== name) {
    throw new Error(`the module registered as study '${name}' exports a study named '${study.name}'`);
  }
  return study;
}
