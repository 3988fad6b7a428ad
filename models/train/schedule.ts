// Learning-rate (and momentum) schedules as pure functions of the step number, with PyTorch's
// definitions so the same recipe behaves the same in both runtimes.

export type ScheduleName = 'onecycle' | 'cosine' | 'step' | 'constant';
export const SCHEDULE_NAMES: readonly ScheduleName[] = ['onecycle', 'cosine', 'step', 'constant'];

export interface ScheduleConfig {
  name: ScheduleName;
  /** Peak (onecycle) or initial learning rate. */
  lr: number;
  /** onecycle: fraction of steps spent warming up (PyTorch default 0.3). */
  pctStart?: number;
  /** onecycle: initial lr = lr / divFactor (default 25). */
  divFactor?: number;
  /** onecycle: final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** onecycle: momentum cycles max -> base -> max (defaults 0.95, 0.85). */
  maxMomentum?: number;
  baseMomentum?: number;
  /** step: multiply by gamma every stepSize steps (defaults 0.1 and a third of the run). */
  gamma?: number;
  stepSize?: number;
  /** cosine: the floor (default 0). */
  minLr?: number;
}

export interface ScheduleValue {
  lr: number;
  /** Momentum for this step when the schedule cycles it (onecycle), else undefined. */
  momentum?: number;
}

/** PyTorch's _annealing_cos: from start at pct 0 to end at pct 1 along half a cosine. */
function cosAnneal(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

/** The value for 0-based step `step` of `totalSteps` (PyTorch's scheduler after `step` calls). */
export function scheduleAt(config: ScheduleConfig, step: number, totalSteps: number): ScheduleValue {
  const total = Math.max(1, totalSteps);
  switch (config.name) {
    case 'constant':
      return { lr: config.lr };
    case 'cosine': {
      const minLr = config.minLr ?? 0;
      return { lr: cosAnneal(config.lr, minLr, Math.min(1, step / total)) };
    }
    case 'step': {
      const size = config.stepSize ?? Math.max(1, Math.ceil(total / 3));
      return { lr: config.lr * (config.gamma ?? 0.1) ** Math.floor(step / size) };
    }
    case 'onecycle': {
      const initial = config.lr / (config.divFactor ?? 25);
      const min = initial / (config.finalDivFactor ?? 1e4);
      const maxM = config.maxMomentum ?? 0.95;
      const baseM = config.baseMomentum ?? 0.85;
      const warmEnd = (config.pctStart ?? 0.3) * total - 1;
      const end = total - 1;
      if (step <= warmEnd) {
        const pct = warmEnd <= 0 ? 1 : step / warmEnd;
        return { lr: cosAnneal(initial, config.lr, pct), momentum: cosAnneal(maxM, baseM, pct) };
      }
      const pct = Math.min(1, (step - warmEnd) / Math.max(1e-9, end - warmEnd));
      return { lr: cosAnneal(config.lr, min, pct), momentum: cosAnneal(baseM, maxM, pct) };
    }
  }
}
