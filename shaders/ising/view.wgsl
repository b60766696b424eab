// Live view of one replica's spins, drawn straight from the engine's spin buffer (no read-back).
// Standalone module (needs no other fragment). Host side: src/ising/view.ts (IsingRenderer).
//
// Spin storage is the engines' (see lattice.wgsl): 1 bit per spin, bit = 1 for s = +1; site i = y·lx + x
// of replica r is bit i % 32 of word r·words + i / 32. `firstWord` is r·words for the replica shown.
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

/// Colours a pixel by the spin of the site under its centre (nearest-site sampling). `position.xy` is
/// the pixel centre in target coordinates, y down, so row 0 of the lattice is drawn at the top.
@fragment
fn shadeSpins(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  let p = (position.xy - params.origin) / params.pixelsPerSite;
  if (p.x < 0.0 || p.y < 0.0 || p.x >= f32(params.lx) || p.y >= f32(params.ly)) {
    return params.background;
  }
  // min(): f32 rounding must not step past the last row or column.
  let x = min(u32(p.x), params.lx - 1u);
  let y = min(u32(p.y), params.ly - 1u);
  let site = y * params.lx + x;
  let up = (spins[params.firstWord + site / 32u] >> (site % 32u)) & 1u;
  return select(params.downColour, params.upColour, up == 1u);
}
