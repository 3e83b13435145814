// Small, fast, non-cryptographic hashes for consistent hashing and opaque sticky keys.

/** FNV-1a over the UTF-16 code units of a string, 32 bits. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Mixes two 32-bit hashes into a well-spread 32-bit value (murmur3's finalizer over their combination). */
export function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A short opaque key for an endpoint id: stable across restarts, reveals nothing about the backend. */
export function stickyKeyFor(id: string): string {
  return mix(fnv1a(id), 0x5bd1e995).toString(36) + fnv1a(`${id}#`).toString(36);
}
