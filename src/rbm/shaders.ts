/** WGSL sources of the RBM kernels (shaders/rbm/), composed with the common fragments. */
import activation from '../../shaders/rbm/activation.wgsl?raw';
import ais from '../../shaders/rbm/ais.wgsl?raw';
import batch from '../../shaders/rbm/batch.wgsl?raw';
import convGradient from '../../shaders/rbm/conv-gradient.wgsl?raw';
import conv from '../../shaders/rbm/conv.wgsl?raw';
import gradient from '../../shaders/rbm/gradient.wgsl?raw';
import layerCommon from '../../shaders/rbm/layer-common.wgsl?raw';
import layer from '../../shaders/rbm/layer.wgsl?raw';
import monitor from '../../shaders/rbm/monitor.wgsl?raw';
import optimizer from '../../shaders/rbm/optimizer.wgsl?raw';
import { composeWgsl, type KernelSource } from '../gpu/kernel.ts';
import { wgsl } from '../gpu/shaders.ts';

export const rbmSources = {
  layer: { label: 'rbm-layer', code: composeWgsl(wgsl.wideMath, wgsl.philox, layerCommon, layer) },
  conv: {
    label: 'rbm-conv',
    code: composeWgsl(wgsl.wideMath, wgsl.philox, wgsl.dispatch, layerCommon, conv),
  },
  batch: { label: 'rbm-batch', code: composeWgsl(wgsl.wideMath, wgsl.philox, wgsl.dispatch, batch) },
  gradient: { label: 'rbm-gradient', code: gradient },
  convGradient: { label: 'rbm-conv-gradient', code: composeWgsl(wgsl.dispatch, convGradient) },
  optimizer: { label: 'rbm-optimizer', code: composeWgsl(wgsl.dispatch, optimizer) },
  monitor: { label: 'rbm-monitor', code: composeWgsl(wgsl.dispatch, activation, monitor) },
  ais: { label: 'rbm-ais', code: composeWgsl(wgsl.wideMath, wgsl.philox, wgsl.dispatch, activation, ais) },
} satisfies Record<string, KernelSource>;
