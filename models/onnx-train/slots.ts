// Converts the ONNX trainer's optimiser slots (SGD momentum buffers, Adam's m and v; PyTorch layout, like
// the weights) to and from models/train/optimizer.ts's OptimizerState, whose slots are in TensorFlow.js
// layout (the shape of the tfjs variable: HWIO convs, [in, out] matrices), so a checkpoint written by
// either engine resumes in the other. The layout rules are models/core/layout.ts's toTfLayout /
// fromTfLayout, shared with models/tfjs/model.ts. Pure: models/core only.

/** The key of a parameter's slot in OptimizerState.slots: `<kind>/<param>`, as the TensorFlow.js optimiser. */
export function slotKey(kind: 'momentum' | 'm' | 'v', param: string): string {
  return `${kind}/${param}`;
}

/** The key of a parameter's momentum buffer in OptimizerState.slots. */
export function momentumSlotKey(param: string): string {
  return slotKey('momentum', param);
}
