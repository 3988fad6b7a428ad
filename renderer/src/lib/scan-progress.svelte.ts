// Progress of the folder scan under way (from the API's scan-progress events).
export const scanProgress = $state({ path: '', seen: 0, probed: 0, walkDone: false });
