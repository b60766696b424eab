// Live view of one replica's spins, drawn straight from a GPU spin buffer (no read-back).
// Standalone module (needs no other fragment). Host side: src/ising/view.ts (SpinRenderer, IsingRenderer).
//
// Two storages, one fragment entry point each, the same placement and colours:
// - shadeSpins: the Ising engines' (see lattice.wgsl): 1 bit per spin, bit = 1 for s = +1; site
//   i = y·lx + x of replica r is bit i % 32 of word r·words + i / 32. `firstWord` is r·words.
// - shadeValues: the block-spin pipeline's levels (shaders/rg/block.wgsl): one f32 ±1 per site, read
//   as its u32 bits; site i of replica r is word r·lx·ly + i. `firstWord` is r·lx·ly.
//
// Placement: the lattice's top-left corner sits at pixel `origin` and each site covers `pixelsPerSite`
// pixels per axis (a whole number when the lattice fits, for crisp squares; a fraction when the lattice
// has more sites than the target has pixels, which then samples the nearest site). Pixels outside the
// lattice get `background`.

struct SpinViewParams {
  upColour: vec4<f32>,
  downColour: vec4<f32>,
  background: vec4<f32>,
  // Target pixel of the lattice's top-left corner.
  origin: vec2<f32>,
  pixelsPerSite: f32,
  lx: u32,
  ly: u32,
  firstWord: u32,
}

@group(0) @binding(0) var<uniform> params: SpinViewParams;
@group(0) @binding(1) var<storage, read> spins: array<u32>;

/// One triangle that covers the whole target: vertices (−1, −1), (3, −1), (−1, 3) in clip space. No
/// vertex buffer; the fragment stage does all the work.
@vertex
fn fullScreenTriangle(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {
  let corner = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
  return vec4<f32>(corner * 2.0 - 1.0, 0.0, 1.0);
}

/// Marks a pixel outside the lattice (siteAt's result in the letterbox margins).
const OUTSIDE = 0xffffffffu;

/// The site (y·lx + x) under a pixel centre, nearest-site sampling, or OUTSIDE. `pixel` is the pixel
/// centre in target coordinates, y down, so row 0 of the lattice is drawn at the top.
fn siteAt(pixel: vec2<f32>) -> u32 {
  let p = (pixel - params.origin) / params.pixelsPerSite;
  if (p.x < 0.0 || p.y < 0.0 || p.x >= f32(params.lx) || p.y >= f32(params.ly)) {
    return OUTSIDE;
  }
  // min(): f32 rounding must not step past the last row or column.
  let x = min(u32(p.x), params.lx - 1u);
  let y = min(u32(p.y), params.ly - 1u);
  return y * params.lx + x;
}

/// Colours a pixel by the spin of the site under its centre, from 1-bit packed spins.
@fragment
fn shadeSpins(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  let site = siteAt(position.xy);
  if (site == OUTSIDE) {
    return params.background;
  }
  let up = (spins[params.firstWord + site / 32u] >> (site % 32u)) & 1u;
  return select(params.downColour, params.upColour, up == 1u);
}

/// Colours a pixel by the spin of the site under its centre, from one f32 per site (up: > 0).
@fragment
fn shadeValues(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  let site = siteAt(position.xy);
  if (site == OUTSIDE) {
    return params.background;
  }
  return select(params.downColour, params.upColour, bitcast<f32>(spins[params.firstWord + site]) > 0.0);
}
