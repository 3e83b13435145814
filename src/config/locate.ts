// Finds where a config path was written, so every problem can point at the YAML. A path that
// does not exist (a missing key) points at the deepest part that does: the parent object.
import type { Document } from 'yaml';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';

/** 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

/** Where the key (or list item) at `path` starts, or where its nearest written ancestor does. */
export function positionOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): Position | undefined {
  let node: unknown = doc.contents;
  let position = startOf(node, lines);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      position = startOf(pair.key, lines) ?? position;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (!isNode(item)) break;
      position = startOf(item, lines) ?? position;
      node = item;
    } else {
      break;
    }
  }
  return position;
}

/** Where a node starts in the source. */
export function startOf(node: unknown, lines: LineCounter): Position | undefined {
  const range = isNode(node) ? node.range : undefined;
  return range ? lines.linePos(range[0]) : undefined;
}

/**
 * The line each config path was written on, for messages about a file that already loaded (warnings).
 * @example lineFinder(text)(['services', 'web', 'run', 'command']) // 7
 */
export function lineFinder(text: string): (path: readonly PropertyKey[]) => number | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });
  return (path) => positionOf(doc, lines, path)?.line;
}
