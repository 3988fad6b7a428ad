// The public surface of the sample-dataset module: the "shapes" generator and the pointing game. Must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
export {
  BOXES_FILE,
  DEFAULT_SHAPES_COUNTS,
  MANIFEST_FILE,
  generateShapesDataset,
  readShapesBoxes,
  type ShapesDatasetOptions,
  type ShapesDatasetSummary,
} from './generate-shapes-dataset.js';
export {
  mapPeak,
  pointingGame,
  type AttentionMap,
  type ObjectBox,
  type PointingGameResult,
  type PointingOptions,
  type PointingPoint,
} from './pointing-game.js';
export {
  DEFAULT_SHAPE_CLASSES,
  SHAPE_CLASSES,
  renderShapesImage,
  type ShapeClass,
  type ShapesImage,
} from './render-shapes-image.js';
