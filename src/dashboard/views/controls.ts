// The controls of the selected service: only what its phase allows; destructive ones ask first.
import type { DeploymentDetail, DeploymentView, ServiceView } from '../api/types.js';
import { CONFIRMED, LABELS, possibleActions, rollbackTarget, type Action } from '../state/actions.js';
import { h } from './dom.js';
import { confirmAction } from './confirm.js';

export interface ControlHandlers {
  act(action: Action): void;
  openDeploy(service: string): void;
}

export function controlsSignature(service: ServiceView, detail: DeploymentDetail | null, history: readonly DeploymentView[], busy: string | null): string {
  return JSON.stringify([service.name, possibleActions(service, detail, history), rollbackTarget(service, history), busy, service.deployment?.id]);
}

export function controls(service: ServiceView, detail: DeploymentDetail | null, history: readonly DeploymentView[], busy: string | null, handlers: ControlHandlers): HTMLElement {
  const actions = possibleActions(service, detail, history);
  const ask = async (action: Action) => {
    if (CONFIRMED.has(action)) {
      const { title, message } = confirmation(action, service, history);
      if (!(await confirmAction(title, message, LABELS[action]))) return;
    }
    handlers.act(action);
  };
  return h(
    'div',
    { class: 'controls', role: 'group', 'aria-label': `Controls for ${service.name}` },
    actions.map((action) =>
      h(
        'button',
        {
          type: 'button',
          class: `btn${action === 'abort' || action === 'rollback' ? ' btn-danger-outline' : action === 'promote' || action === 'resume' ? ' btn-primary' : ''}`,
          'data-action': action,
          'data-focus': `action:${action}`,
          disabled: busy !== null,
          'aria-busy': busy === action ? 'true' : null,
          onclick: () => void ask(action),
        },
        LABELS[action],
      ),
    ),
    service.deployment === null
      ? h('button', { type: 'button', class: 'btn btn-primary', 'data-focus': 'deploy-here', onclick: () => handlers.openDeploy(service.name) }, 'Deploy…')
      : null,
  );
}

function confirmation(action: Action, service: ServiceView, history: readonly DeploymentView[]): { title: string; message: string } {
  const d = service.deployment;
  const stable = service.stable?.version ?? 'the stable release';
  switch (action) {
    case 'abort':
      return {
        title: `Abort deployment #${d?.id ?? ''}?`,
        message: `${service.name} goes back to ${stable} for all traffic now, and the instances of ${d?.to?.version ?? 'the new release'} are drained and stopped.`,
      };
    case 'rollback':
      return {
        title: `Roll ${service.name} back?`,
        message: `${service.name} returns from ${stable} to ${rollbackTarget(service, history) ?? 'the previous release'}.`,
      };
    default:
      return {
        title: `Promote ${d?.to?.version ?? 'the new release'} fully?`,
        message: 'Every remaining pause and analysis step is skipped and the new release takes all traffic.',
      };
  }
}
