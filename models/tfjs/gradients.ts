// Registers TensorFlow.js's gradient functions. tfjs-core's Node build leaves them out and its ES module
// build cannot be imported by Node (extension-less paths), so the union package's Node bundle, which
// registers them into the same tfjs-core instance, is loaded for that side effect. Import this module
// wherever gradients are taken.
import '@tensorflow/tfjs';
