// Picks the planner for a strategy. Planners are pure: same input, same steps.
import type { DeployStrategy } from '../../config/index.js';
import type { Step } from '../steps.js';
import { planBlueGreen } from './blue-green.js';
import { planCanary } from './canary.js';
import type { PlanInput } from './plan-input.js';
import { planRolling } from './rolling.js';

export type { PlanInput } from './plan-input.js';

/** The strategy's steps, without hook steps for hooks the service does not have (they would do nothing). */
export function plan(strategy: DeployStrategy, input: PlanInput): Step[] {
  const { hooks } = input.deploy;
  return planFor(strategy, input).filter((step) => step.kind !== 'hook' || hooks[step.hook] !== undefined);
}

function planFor(strategy: DeployStrategy, input: PlanInput): Step[] {
  switch (strategy) {
    case 'rolling':
      return planRolling(input);
    case 'blue-green':
      return planBlueGreen(input);
    case 'canary':
      return planCanary(input);
  }
}
