import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configJsonSchema } from './json-schema.js';

type Json = Record<string, unknown>;

/** Follows property names through a JSON schema, the way an editor does. */
function at(schema: Json, ...keys: string[]): Json {
  let node = schema;
  for (const key of keys) {
    const properties = node.properties as Json | undefined;
    const next = key === '*' ? node.additionalProperties : properties?.[key];
    assert.ok(next && typeof next === 'object', `no ${key} in ${JSON.stringify(Object.keys(properties ?? {}))}`);
    node = next as Json;
  }
  return node;
}

describe('configJsonSchema', () => {
  const schema = configJsonSchema();

  it('is a titled draft 2020-12 schema that survives JSON serialization', () => {
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.title, 'switchyard.yaml');
    assert.equal(typeof schema.description, 'string');
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
  });

  it('describes services as a map from valid names to strict service objects', () => {
    const services = at(schema, 'services');
    assert.equal(services.type, 'object');
    assert.deepEqual(services.propertyNames, { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
    const service = at(schema, 'services', '*');
    assert.equal(service.additionalProperties, false);
    for (const key of ['match', 'run', 'targets', 'health', 'balance', 'deploy']) assert.ok(at(service, key));
    assert.deepEqual(schema.required, ['services']);
  });

  it('offers what users write: durations and percentages as strings, with defaults as written', () => {
    const interval = at(schema, 'services', '*', 'health', 'interval');
    assert.equal(interval.default, '1s');
    assert.ok(JSON.stringify(interval.anyOf).includes('"type":"string"'));
    assert.equal(at(schema, 'services', '*', 'outlier', 'maxEjectionPercent').default, '50%');
    assert.equal(at(schema, 'proxy', 'limits', 'maxBodySize').default, '100mb');
    assert.equal(at(schema, 'proxy', 'listen').default, '127.0.0.1:8080');
    assert.deepEqual(at(schema, 'services', '*', 'balance').enum, ['round-robin', 'least-connections', 'random-two', 'hash']);
  });

  it('carries descriptions for editors to show on hover', () => {
    assert.match(String(at(schema, 'services').description), /apps behind the proxy/);
    assert.match(String(at(schema, 'admin', 'token').description), /Bearer token/);
    assert.match(String(at(schema, 'services', '*', 'deploy', 'canary', 'steps').description), /Traffic steps/);
  });

  it('closes every object so editors flag unknown keys', () => {
    const open: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (!node || typeof node !== 'object') return;
      const json = node as Json;
      if (json.type === 'object' && json.properties && json.additionalProperties !== false) open.push(path);
      for (const [key, child] of Object.entries(json)) {
        if (Array.isArray(child)) child.forEach((c, i) => visit(c, `${path}/${key}/${String(i)}`));
        else visit(child, `${path}/${key}`);
      }
    };
    visit(schema, '');
    assert.deepEqual(open, []);
  });
});
