// Specification of service matching: exact host, then longest wildcard, then any host; longest path prefix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostRouter, pathHasPrefix, stripPathPrefix, type RouteMatch } from './host-router.js';

function route(target: string, hosts: string[], pathPrefix = '/'): { match: RouteMatch; target: string } {
  return { match: { hosts, pathPrefix }, target };
}

describe('HostRouter host matching', () => {
  const router = new HostRouter([
    route('any', []),
    route('wild', ['*.example.com']),
    route('deep-wild', ['*.eu.example.com']),
    route('exact', ['app.example.com']),
  ]);

  it('prefers an exact host over a wildcard and a host-less service', () => {
    assert.equal(router.match('app.example.com', '/'), 'exact');
  });

  it('prefers a wildcard over a host-less service', () => {
    assert.equal(router.match('shop.example.com', '/'), 'wild');
  });

  it('falls back to the host-less service for any other host', () => {
    assert.equal(router.match('other.org', '/'), 'any');
  });

  it('falls back to the host-less service when the request has no Host header', () => {
    assert.equal(router.match(undefined, '/'), 'any');
  });

  it('prefers the longest matching wildcard suffix', () => {
    assert.equal(router.match('shop.eu.example.com', '/'), 'deep-wild');
    assert.equal(router.match('shop.us.example.com', '/'), 'wild');
  });

  it('prefers the longest wildcard whatever the order the services were declared in', () => {
    const reversed = new HostRouter([route('deep-wild', ['*.eu.example.com']), route('wild', ['*.example.com'])]);
    assert.equal(reversed.match('a.eu.example.com', '/'), 'deep-wild');
    const forward = new HostRouter([route('wild', ['*.example.com']), route('deep-wild', ['*.eu.example.com'])]);
    assert.equal(forward.match('a.eu.example.com', '/'), 'deep-wild');
  });

  it('matches a wildcard against several levels of subdomain', () => {
    assert.equal(router.match('a.b.c.example.com', '/'), 'wild');
  });

  it('does not match *.example.com against example.com itself', () => {
    assert.equal(router.match('example.com', '/'), 'any');
    assert.equal(new HostRouter([route('wild', ['*.example.com'])]).match('example.com', '/'), undefined);
  });

  it('does not match *.example.com against a host that merely ends in example.com', () => {
    assert.equal(router.match('notexample.com', '/'), 'any');
  });

  it('ignores the port in the Host header', () => {
    assert.equal(router.match('app.example.com:8080', '/'), 'exact');
    assert.equal(router.match('shop.example.com:443', '/'), 'wild');
  });

  it('matches host names case-insensitively', () => {
    assert.equal(router.match('APP.Example.COM', '/'), 'exact');
    assert.equal(router.match('App.Example.Com:8080', '/'), 'exact');
    assert.equal(router.match('SHOP.EXAMPLE.COM', '/'), 'wild');
  });

  it('matches an IPv6 literal host with a port', () => {
    const v6 = new HostRouter([route('v6', ['[::1]']), route('any', [])]);
    assert.equal(v6.match('[::1]:8080', '/'), 'v6');
    assert.equal(v6.match('[::1]', '/'), 'v6');
  });

  it('returns undefined when nothing matches', () => {
    assert.equal(new HostRouter([route('exact', ['app.example.com'])]).match('other.org', '/'), undefined);
    assert.equal(new HostRouter<string>([]).match('app.example.com', '/'), undefined);
  });

  it('matches a service that lists several hosts by any of them', () => {
    const multi = new HostRouter([route('web', ['a.example.com', 'b.example.com', '*.example.net'])]);
    assert.equal(multi.match('a.example.com', '/'), 'web');
    assert.equal(multi.match('b.example.com', '/'), 'web');
    assert.equal(multi.match('x.example.net', '/'), 'web');
  });
});

describe('HostRouter path matching', () => {
  it('prefers the longest matching path prefix', () => {
    const router = new HostRouter([route('root', [], '/'), route('api', [], '/api'), route('v2', [], '/api/v2')]);
    assert.equal(router.match('h', '/api/v2/users'), 'v2');
    assert.equal(router.match('h', '/api/v1/users'), 'api');
    assert.equal(router.match('h', '/home'), 'root');
  });

  it('prefers the longest path prefix whatever the declaration order', () => {
    const router = new HostRouter([route('v2', [], '/api/v2'), route('root', [], '/'), route('api', [], '/api')]);
    assert.equal(router.match('h', '/api/v2'), 'v2');
    assert.equal(router.match('h', '/api'), 'api');
  });

  it('does not match /api against /apix', () => {
    const router = new HostRouter([route('root', [], '/'), route('api', [], '/api')]);
    assert.equal(router.match('h', '/apix'), 'root');
    assert.equal(router.match('h', '/api'), 'api');
    assert.equal(router.match('h', '/api/'), 'api');
    assert.equal(router.match('h', '/api?q=1'), 'api');
  });

  it('falls through to a wildcard when the exact host has no matching path', () => {
    const router = new HostRouter([
      route('exact-api', ['app.example.com'], '/api'),
      route('wild', ['*.example.com'], '/'),
      route('any', [], '/'),
    ]);
    assert.equal(router.match('app.example.com', '/api/x'), 'exact-api');
    assert.equal(router.match('app.example.com', '/other'), 'wild');
  });

  it('falls through to a host-less service when no host-specific path matches', () => {
    const router = new HostRouter([route('exact-api', ['app.example.com'], '/api'), route('any', [], '/')]);
    assert.equal(router.match('app.example.com', '/static/x.css'), 'any');
  });

  it('prefers the exact host even when a host-less service has a longer prefix', () => {
    const router = new HostRouter([route('exact', ['app.example.com'], '/'), route('any-api', [], '/api')]);
    assert.equal(router.match('app.example.com', '/api/x'), 'exact');
  });
});

describe('pathHasPrefix', () => {
  it('matches the prefix itself, a sub-path and a query', () => {
    assert.equal(pathHasPrefix('/api', '/api'), true);
    assert.equal(pathHasPrefix('/api/x', '/api'), true);
    assert.equal(pathHasPrefix('/api?q=1', '/api'), true);
  });

  it('does not match a longer path segment or a shorter path', () => {
    assert.equal(pathHasPrefix('/apix', '/api'), false);
    assert.equal(pathHasPrefix('/ap', '/api'), false);
    assert.equal(pathHasPrefix('/other', '/api'), false);
  });

  it('treats a prefix ending in a slash as a directory', () => {
    assert.equal(pathHasPrefix('/api/x', '/api/'), true);
    assert.equal(pathHasPrefix('/apix', '/api/'), false);
  });

  it('matches every path with the prefix /', () => {
    assert.equal(pathHasPrefix('/', '/'), true);
    assert.equal(pathHasPrefix('/anything?x', '/'), true);
  });
});

describe('stripPathPrefix', () => {
  it('removes the prefix and keeps the rest of the path', () => {
    assert.equal(stripPathPrefix('/api/x', '/api'), '/x');
    assert.equal(stripPathPrefix('/api/x/y?z=1', '/api'), '/x/y?z=1');
  });

  it('leaves / when the path is the prefix itself', () => {
    assert.equal(stripPathPrefix('/api', '/api'), '/');
    assert.equal(stripPathPrefix('/api/', '/api'), '/');
  });

  it('keeps the query after the root when the path is the prefix and a query', () => {
    assert.equal(stripPathPrefix('/api?q=1', '/api'), '/?q=1');
  });

  it('handles a prefix that ends in a slash', () => {
    assert.equal(stripPathPrefix('/api/x', '/api/'), '/x');
  });

  it('leaves the path alone for the prefix /', () => {
    assert.equal(stripPathPrefix('/api/x', '/'), '/api/x');
    assert.equal(stripPathPrefix('/', '/'), '/');
    assert.equal(stripPathPrefix('/?q=1', '/'), '/?q=1');
  });
});

describe('HostRouter with many path prefixes on one host', () => {
  const prefixes = ['/', '/api', '/api/v2', '/api/v2/', '/apix', ...Array.from({ length: 100 }, (_, i) => `/s${i}`)];
  const router = new HostRouter(prefixes.map((p) => ({ match: { hosts: [], pathPrefix: p }, target: p })));

  it('finds the longest matching prefix among those sharing the first segment, else the catch-all', () => {
    assert.equal(router.match('h', '/api/v2/x'), '/api/v2/');
    assert.equal(router.match('h', '/api/v2'), '/api/v2');
    assert.equal(router.match('h', '/api/v1'), '/api');
    assert.equal(router.match('h', '/api?q=1'), '/api');
    assert.equal(router.match('h', '/apix/1'), '/apix');
    assert.equal(router.match('h', '/apiy'), '/');
    assert.equal(router.match('h', '/s42/item'), '/s42');
    assert.equal(router.match('h', '/s420'), '/');
    assert.equal(router.match('h', '/'), '/');
    assert.equal(router.match('h', '?x'), undefined, 'a request target that is not a path matches no prefix');
  });
});
