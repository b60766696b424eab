/**
 * SpinRenderer (shaders/ising/view.wgsl) against a CPU oracle: a non-square batch of lattices, stored as the
 * Ising engines' 1-bit words and as the block-spin levels' f32 ±1, drawn into an offscreen texture (a stand-in
 * canvas context) with letterbox margins; every pixel is the colour of the site under its centre, or the
 * background. Also the refusals of a buffer too small for the batch.
 */
import { describe, expect, it } from 'vitest';
import { createStorageBuffer } from '../../src/gpu/buffers.ts';
import { SpinRenderer, spinViewPlacement, type SpinBuffer, type SpinEncoding } from '../../src/ising/view.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const LX = 5;
const LY = 3;
const REPLICAS = 3;
/** 30×15 pixels: 5 px per site (integer scaling), lattice at x = 2 … 26 (letterbox 2 px left, 3 px right). */
const WIDTH = 30;
const HEIGHT = 15;
const PALETTE = { up: '#ff0000', down: '#0000ff', background: '#00ff00' };
const RGBA: Record<'up' | 'down' | 'background', number[]> = {
  up: [255, 0, 0, 255],
  down: [0, 0, 255, 255],
  background: [0, 255, 0, 255],
};

/** Spin of site i of replica r: a pattern that differs between replicas and is not symmetric. */
const spin = (r: number, i: number): number => (((i * 7 + r * 3) % 5) % 2 === 0 ? 1 : -1);

function spinBuffer(device: GPUDevice, encoding: SpinEncoding): SpinBuffer {
  const sites = LX * LY;
  const stride = encoding === 'bits' ? Math.ceil(sites / 32) + 1 : sites + 2; // padded strides, as engines may
  const words = new Uint32Array(REPLICAS * stride);
  const f32 = new Float32Array(words.buffer);
  for (let r = 0; r < REPLICAS; r++) {
    for (let i = 0; i < sites; i++) {
      if (encoding === 'f32') f32[r * stride + i] = spin(r, i);
      else if (spin(r, i) > 0) words[r * stride + (i >> 5)]! |= 1 << (i & 31);
    }
  }
  const spins = createStorageBuffer(device, `view test ${encoding}`, words.byteLength, words);
  return { spins, encoding, lx: LX, ly: LY, replicas: REPLICAS, stride };
}

/** Draws `replica` into a WIDTH × HEIGHT rgba8unorm texture and reads it back (row-major RGBA bytes). */
async function draw(device: GPUDevice, source: SpinBuffer, replica: number): Promise<Uint8Array> {
  const texture = device.createTexture({
    label: 'view test target',
    size: [WIDTH, HEIGHT],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const context = {
    canvas: { width: WIDTH, height: HEIGHT },
    configure: () => undefined,
    getCurrentTexture: () => texture,
  } as unknown as GPUCanvasContext;
  const renderer = new SpinRenderer(device, context, source, {
    format: 'rgba8unorm',
    palette: PALETTE,
    replica,
  });
  const bytesPerRow = 256;
  const read = device.createBuffer({
    label: 'view test read-back',
    size: bytesPerRow * HEIGHT,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  try {
    renderer.render();
    const encoder = device.createCommandEncoder();
    encoder.copyTextureToBuffer({ texture }, { buffer: read, bytesPerRow }, [WIDTH, HEIGHT]);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const rows = new Uint8Array(read.getMappedRange());
    const out = new Uint8Array(WIDTH * HEIGHT * 4);
    for (let y = 0; y < HEIGHT; y++)
      out.set(rows.subarray(y * bytesPerRow, y * bytesPerRow + WIDTH * 4), y * WIDTH * 4);
    read.unmap();
    expect(renderer.placement).toEqual(spinViewPlacement(LX, LY, WIDTH, HEIGHT));
    return out;
  } finally {
    renderer.destroy();
    read.destroy();
    texture.destroy();
  }
}

/** The oracle: the colour of the site under each pixel centre (nearest site), background outside. */
function expected(replica: number): Uint8Array {
  const { originX, originY, pixelsPerSite } = spinViewPlacement(LX, LY, WIDTH, HEIGHT);
  const out = new Uint8Array(WIDTH * HEIGHT * 4);
  for (let py = 0; py < HEIGHT; py++) {
    for (let px = 0; px < WIDTH; px++) {
      const x = Math.floor((px + 0.5 - originX) / pixelsPerSite);
      const y = Math.floor((py + 0.5 - originY) / pixelsPerSite);
      const inside = x >= 0 && y >= 0 && x < LX && y < LY;
      const colour = inside ? (spin(replica, y * LX + x) > 0 ? 'up' : 'down') : 'background';
      out.set(RGBA[colour], (py * WIDTH + px) * 4);
    }
  }
  return out;
}

describe('SpinRenderer', () => {
  const gpu = useGpu();

  it.each(['bits', 'f32'] as const)(
    '%s storage: every pixel of replicas 0 and 2 is its site colour or the background',
    async (encoding) => {
      const { device } = gpu();
      await checked(device, async () => {
        const source = spinBuffer(device, encoding);
        try {
          const placement = spinViewPlacement(LX, LY, WIDTH, HEIGHT);
          expect(placement).toEqual({ originX: 2, originY: 0, pixelsPerSite: 5 });
          for (const replica of [0, 2]) {
            expect(Array.from(await draw(device, source, replica)), `replica ${replica}`).toEqual(
              Array.from(expected(replica)),
            );
          }
        } finally {
          source.spins.destroy();
        }
      });
    },
  );

  it('refuses a buffer too small for its batch, a short stride and a replica outside it', () => {
    const { device } = gpu();
    const source = spinBuffer(device, 'f32');
    const context = {
      canvas: { width: 1, height: 1 },
      configure: () => undefined,
    } as unknown as GPUCanvasContext;
    const make = (change: Partial<SpinBuffer>, replica = 0): SpinRenderer =>
      new SpinRenderer(device, context, { ...source, ...change }, { format: 'rgba8unorm', replica });
    try {
      expect(() => make({ replicas: 4 })).toThrow(/has 204 bytes; 4 × 17 words need 272/);
      expect(() => make({ stride: 14 })).toThrow('stride 14 must be an integer ≥ 15 words (5×3 spins, f32)');
      expect(() => make({}, 3)).toThrow('replica 3 must be an integer in 0 … 2');
    } finally {
      source.spins.destroy();
    }
  });
});
