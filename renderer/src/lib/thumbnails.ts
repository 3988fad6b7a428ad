// Thumbnails on demand: requests made within a few milliseconds are sent as one API call (at most 64
// paths), and answers are cached (the most recent 2,000), so scrolling a gallery asks only for what it shows.
import { api } from './api.js';

export interface ThumbnailAnswer {
  dataUrl: string | null;
  error?: string;
}

const cache = new Map<string, ThumbnailAnswer>();
const CACHE_LIMIT = 2000;
const BATCH = 64;
type Waiting = { path: string; resolve: (a: ThumbnailAnswer) => void }[];
const queues = new Map<string, Waiting>();
const inflight = new Map<string, Promise<ThumbnailAnswer>>();
let timer: ReturnType<typeof setTimeout> | null = null;

function keyOf(group: string, path: string): string {
  return `${group}\n${path}`;
}

function remember(key: string, answer: ThumbnailAnswer): void {
  cache.set(key, answer);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
}

async function send(group: string, waiting: Waiting): Promise<void> {
  const [datasetId, size] = group.split('|');
  try {
    const answers = await api().call('datasets.thumbnails', {
      paths: waiting.map((w) => w.path),
      ...(datasetId ? { datasetId } : {}),
      size: Number(size),
    });
    waiting.forEach((w, i) => w.resolve(answers[i] ?? { dataUrl: null, error: 'No answer' }));
  } catch (error) {
    for (const w of waiting) w.resolve({ dataUrl: null, error: (error as Error).message });
  }
}

function drain(): void {
  timer = null;
  for (const [group, waiting] of queues) {
    queues.delete(group);
    for (let i = 0; i < waiting.length; i += BATCH) void send(group, waiting.slice(i, i + BATCH));
  }
}

/** A thumbnail of `path` (relative to the dataset when `datasetId` is given, else absolute). */
export function thumbnail(
  path: string,
  options: { datasetId?: string; size?: number } = {},
): Promise<ThumbnailAnswer> {
  const group = `${options.datasetId ?? ''}|${options.size ?? 96}`;
  const key = keyOf(group, path);
  const cached = cache.get(key);
  if (cached) return Promise.resolve(cached);
  const running = inflight.get(key);
  if (running) return running;
  const promise = new Promise<ThumbnailAnswer>((resolve) => {
    const list = queues.get(group) ?? [];
    list.push({ path, resolve });
    queues.set(group, list);
    timer ??= setTimeout(drain, 16);
  }).then((answer) => {
    inflight.delete(key);
    if (answer.dataUrl) remember(key, answer);
    return answer;
  });
  inflight.set(key, promise);
  return promise;
}
