// The deploy form, offering what `switchyard deploy` offers: service, version, strategy (the service's own
// named), environment for the new release (--env), and targets for a service whose instances run
// elsewhere (--target). POST /api/v1/services/:name/deployments; the API's message shows under the form.
import type { ServiceView } from '../api/types.js';
import type { DeployForm } from '../state/live-data.js';
import { h } from './dom.js';

const VERSION_LABEL = '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}';

export function openDeployDialog(services: readonly ServiceView[], preselected: string | null, submit: (form: DeployForm) => Promise<string | null>): void {
  const serviceSelect = h(
    'select',
    { id: 'deploy-service', name: 'service', required: true },
    services.map((s) => h('option', { value: s.name, selected: s.name === preselected }, s.name)),
  );
  const version = h('input', {
    id: 'deploy-version',
    name: 'version',
    required: true,
    pattern: VERSION_LABEL,
    placeholder: 'v2',
    autocomplete: 'off',
    spellcheck: 'false',
    title: 'letters, digits, . _ - (at most 64)',
  });
  const configured = h('option', { value: '' }, 'as configured');
  const strategy = h('select', { id: 'deploy-strategy', name: 'strategy' }, configured, ['rolling', 'blue-green', 'canary'].map((s) => h('option', { value: s }, s)));
  const env = h('textarea', {
    id: 'deploy-env',
    name: 'env',
    rows: 3,
    placeholder: 'FEATURE_X=on\nLOG_LEVEL=debug',
    spellcheck: 'false',
    'aria-describedby': 'deploy-env-help',
  });
  const envRow = h(
    'div',
    { class: 'field' },
    h('label', { for: 'deploy-env' }, 'Environment'),
    env,
    h('span', { id: 'deploy-env-help', class: 'field-help muted' }, 'One KEY=VALUE per line, over the config’s env (like --env)'),
  );
  const targets = h('input', { id: 'deploy-targets', name: 'targets', placeholder: '10.0.0.7:3000, 10.0.0.8:3000', autocomplete: 'off' });
  const targetsRow = h('div', { class: 'field' }, h('label', { for: 'deploy-targets' }, 'Targets'), targets);
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submitButton = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Deploy');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h(
    'form',
    { class: 'deploy-form', method: 'dialog' },
    h('h2', { id: 'deploy-title' }, 'New deployment'),
    h('div', { class: 'field' }, h('label', { for: 'deploy-service' }, 'Service'), serviceSelect),
    h('div', { class: 'field' }, h('label', { for: 'deploy-version' }, 'Version'), version),
    h('div', { class: 'field' }, h('label', { for: 'deploy-strategy' }, 'Strategy'), strategy),
    envRow,
    targetsRow,
    error,
    h('div', { class: 'dialog-actions' }, cancel, submitButton),
  );
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'deploy-title' }, form);
  const showTargets = () => {
    const service = services.find((s) => s.name === serviceSelect.value);
    targetsRow.hidden = service?.kind !== 'static';
    // Environment is for instances switchyard starts; static targets run elsewhere.
    envRow.hidden = service?.kind === 'static';
    configured.textContent = service === undefined ? 'as configured' : `as configured (${service.strategy})`;
  };
  showTargets();
  serviceSelect.addEventListener('change', showTargets);
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  cancel.addEventListener('click', close);
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    submitButton.disabled = true;
    error.textContent = '';
    const list = targetsRow.hidden ? [] : targets.value.split(/[\s,]+/).filter(Boolean);
    const parsed = envRow.hidden ? { env: {} } : parseEnv(env.value);
    if ('problem' in parsed) {
      error.textContent = parsed.problem;
      submitButton.disabled = false;
      env.focus();
      return;
    }
    void submit({ service: serviceSelect.value, version: version.value.trim(), strategy: strategy.value, targets: list, env: parsed.env }).then((problem) => {
      submitButton.disabled = false;
      if (problem === null) close();
      else error.textContent = problem;
    });
  });
  document.body.append(dialog);
  dialog.showModal();
  version.focus();
}

/** `KEY=VALUE` lines (blank lines ignored) as an object, or the first line that is not one. */
export function parseEnv(text: string): { env: Record<string, string> } | { problem: string } {
  const env: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { problem: `Environment line ${i + 1}: expected KEY=VALUE, got "${line}"` };
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return { env };
}
