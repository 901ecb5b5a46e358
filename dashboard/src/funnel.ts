// The lead-status funnel in words: each stage with how many contacts reached it
// and are in it now, its bar's length, and the conversion rate to the next stage
// as the server computed it.

import type { Funnel } from './api';
import { UNKNOWN } from './format';

/** A conversion rate (a fraction) as a percentage to one decimal: 0.6 is "60.0%"; null (nobody to convert) a dash. */
export function formatConversion(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return UNKNOWN;
  // Rounded on the percentage, so that 0.6 × 100 = 60.00000000000001 still reads "60.0%".
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

export interface FunnelRow {
  status: string;
  reached: number;
  current: number;
  /** The bars' lengths, 0 to 1: reached, and in it now, against the most any stage reached. */
  share: number;
  currentShare: number;
  /** On to the next stage; null on the last. */
  next: { to: string; rate: number | null; text: string; title: string } | null;
}

/**
 * The stages in the server's (the configuration's) order, each with the
 * conversion to the one after it: found by its pair of statuses, so that a
 * conversion list in another order or with one missing still reads right.
 */
export function funnelRows(funnel: Funnel): FunnelRow[] {
  const max = Math.max(1, ...funnel.stages.map((s) => s.reached));
  return funnel.stages.map((stage, i) => {
    const after = funnel.stages[i + 1];
    let next: FunnelRow['next'] = null;
    if (after) {
      const found = funnel.conversions.find((c) => c.from === stage.status && c.to === after.status);
      const rate = found ? found.rate : null;
      next = {
        to: after.status,
        rate,
        text: formatConversion(rate),
        title:
          rate === null || rate === undefined
            ? found
              ? `Nobody has reached ${stage.status} yet, so there is no rate.`
              : 'No rate was given for this step.'
            : `${formatConversion(rate)} of the contacts that reached ${stage.status} went on to ${after.status}.`,
      };
    }
    return {
      status: stage.status,
      reached: stage.reached,
      current: stage.current,
      share: stage.reached / max,
      currentShare: stage.current / max,
      next,
    };
  });
}
