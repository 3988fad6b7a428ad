// The one error the feature cache (feature-cache.ts and the modules it is built from) throws: the cache
// would not fit its limits, or an entry is missing. Listed in main/cli/exit-codes.ts. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

export class FeatureCacheError extends Error {
  override name = 'FeatureCacheError';
}
