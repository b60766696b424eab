/** WGSL sources of the MLP kernels (shaders/nn/), composed with the common fragments. */
import biasGradient from '../../shaders/nn/bias-gradient.wgsl?raw';
import loss from '../../shaders/nn/loss.wgsl?raw';
import matmul from '../../shaders/nn/matmul.wgsl?raw';
import { composeWgsl, type KernelSource } from '../gpu/kernel.ts';
import { wgsl } from '../gpu/shaders.ts';

/**
 * The MLP's own kernels. The minibatch gather and the optimiser are the RBM's (rbmSources.batch,
 * rbmSources.optimizer): the same Feistel shuffle and the same SGD / momentum / Adam update rule.
 */
export const nnSources = {
  matmul: { label: 'nn-matmul', code: matmul },
  loss: { label: 'nn-loss', code: composeWgsl(wgsl.dispatch, loss) },
  biasGradient: { label: 'nn-bias-gradient', code: composeWgsl(wgsl.dispatch, biasGradient) },
} satisfies Record<string, KernelSource>;
