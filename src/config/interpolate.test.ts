import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { interpolate } from './interpolate.js';

describe('interpolate', () => {
  it('replaces ${VAR} with the variable', () => {
    assert.deepEqual(interpolate('Bearer ${TOKEN}!', { TOKEN: 'abc' }), { ok: true, value: 'Bearer abc!' });
  });

  it('uses the default when the variable is unset or empty', () => {
    assert.deepEqual(interpolate('${HOST:-127.0.0.1}:8080', {}), { ok: true, value: '127.0.0.1:8080' });
    assert.deepEqual(interpolate('${HOST:-127.0.0.1}', { HOST: '' }), { ok: true, value: '127.0.0.1' });
    assert.deepEqual(interpolate('${HOST:-}', {}), { ok: true, value: '' });
    assert.deepEqual(interpolate('${HOST:-x}', { HOST: 'h' }), { ok: true, value: 'h' });
  });

  it('names the variable that is unset and has no default', () => {
    assert.deepEqual(interpolate('${SWITCHYARD_TOKEN}', {}), {
      ok: false,
      message: 'SWITCHYARD_TOKEN is not set in the environment; set it or give a default: ${SWITCHYARD_TOKEN:-value}',
    });
  });

  it('turns $${ into a literal ${ and leaves other dollars alone', () => {
    assert.deepEqual(interpolate('echo $${HOME} $PATH $5', {}), { ok: true, value: 'echo ${HOME} $PATH $5' });
  });

  it('does not interpolate the values it inserts', () => {
    assert.deepEqual(interpolate('${A}', { A: '${B}', B: 'no' }), { ok: true, value: '${B}' });
  });

  it('reports an unclosed or malformed reference', () => {
    assert.deepEqual(interpolate('${TOKEN', {}), { ok: false, message: 'a "${" is never closed; write $${ for a literal ${' });
    assert.deepEqual(interpolate('${1X}', {}), {
      ok: false,
      message: '"${1X}" is not a variable reference; use ${NAME} or ${NAME:-default}',
    });
  });
});
