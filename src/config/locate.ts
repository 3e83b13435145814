// Finds the line a config path was written on, so every problem can point at the YAML. A path
// that does not exist (a missing key) points at the deepest part that does: the parent object.
import type { Document, LineCounter, Node } from 'yaml';
import { isAlias, isMap, isNode, isScalar, isSeq } from 'yaml';

/** The 1-based line of the key (or list item) at `path`, or of its nearest written ancestor. */
export function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let line = startLine(node, lines);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      line = startLine(pair.key, lines) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (!isNode(item)) break;
      line = startLine(item, lines) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

/** The 1-based line at which a node starts. */
export function startLine(node: unknown, lines: LineCounter): number | undefined {
  const range = isNode(node) ? (node as Node).range : undefined;
  return range ? lines.linePos(range[0]).line : undefined;
}
