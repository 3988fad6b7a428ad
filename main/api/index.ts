// The public surface of the API contract (schemas, types, the client interface). Must not import Node,
// electron, services or anything above main/api: the renderer, electron/ and server/ all import it.
export * from './api-client.js';
export * from './api-contract.js';
export * from './api-error.js';
export * from './api-events.js';
export * from './app-schemas.js';
export * from './backbone-schemas.js';
export * from './classify-schemas.js';
export * from './datasets-schemas.js';
export * from './evaluation-schemas.js';
export * from './training-schemas.js';
export * from './api-dispatch.js';
export * from './compare-schemas.js';
