// The public surface of the heat-map module: attention maps to coloured overlays (PNG). Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
export {
  AttentionMapError,
  DEFAULT_COMBINATION,
  MAP_COMBINATIONS,
  MAP_LEVELS,
  MAP_NORMALISATIONS,
  mapForOverlay,
  mapPeakedness,
  normaliseMap,
  resizeBilinear,
  type AttentionMap,
  type MapCombination,
  type MapLevel,
  type MapNormalisation,
} from './attention-map.js';
export {
  COLORMAP_NAMES,
  ColormapError,
  colormapLut,
  colormapRgb,
  type ColormapName,
  type RgbFloat,
} from './colormap.js';
export { legendScale, legendWidth } from './legend.js';
export {
  DEFAULT_OVERLAY_OPACITY,
  OverlayError,
  encodePng,
  overlayPixels,
  renderAttentionOverlay,
  type OverlayOptions,
  type RgbImage,
} from './render-overlay.js';
