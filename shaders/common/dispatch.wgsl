// Linear workgroup index for dispatches mapped onto a 2D/3D grid by `workgroupGrid` (src/gpu/kernel.ts),
// which keeps each dimension within maxComputeWorkgroupsPerDimension. Callers skip indices ≥ their total.
fn linearWorkgroupIndex(workgroupId: vec3<u32>, numWorkgroups: vec3<u32>) -> u32 {
  return workgroupId.x + numWorkgroups.x * (workgroupId.y + numWorkgroups.y * workgroupId.z);
}
