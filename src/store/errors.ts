// The one error the store throws on purpose: a stable code, the state path, and a reason a user can act on.
// Programming mistakes (a broken foreign key, a bad JSON value) surface as they are.
import Database from 'better-sqlite3';

export type StoreErrorCode =
  /** The state directory or database cannot be created or written (permissions, not a directory, disk full). */
  | 'SY_ERR_STATE_UNWRITABLE'
  /** The database was written by a newer switchyard, whose schema this one does not know. */
  | 'SY_ERR_STATE_TOO_NEW'
  /** The file is not a SQLite database, or it is damaged. */
  | 'SY_ERR_STATE_CORRUPT'
  /** An update named a row that does not exist, or a release of another service. */
  | 'SY_ERR_STATE_NOT_FOUND'
  /** In a cluster: this controller is no longer the leader, so etcd refused its write (fencing). */
  | 'SY_ERR_FENCED'
  /** In a cluster: no etcd member answered within the call's deadline. */
  | 'SY_ERR_STATE_UNREACHABLE';

/**
 * @example
 * cannot write switchyard state at /srv/app/.switchyard: not a directory (ENOTDIR); make `state:` a writable directory with free space
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** The state directory or database file concerned. */
  readonly path: string;

  constructor(code: StoreErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.path = path;
  }
}

const UNWRITABLE_OS_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ENOSPC', 'EDQUOT', 'EEXIST', 'ELOOP', 'EIO']);

/**
 * The StoreError an I/O failure at `path` means, or undefined when it is not about the state being writable.
 * Covers both Node's fs errors (`ENOSPC`, `EACCES`…) and SQLite's (`SQLITE_FULL`, `SQLITE_READONLY`…).
 */
export function storeErrorFromIo(path: string, err: unknown): StoreError | undefined {
  if (err instanceof StoreError) return err;
  const code = errorCode(err);
  if (code === undefined) return undefined;
  if (err instanceof Database.SqliteError) {
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      return new StoreError(
        'SY_ERR_STATE_CORRUPT',
        path,
        `switchyard state at ${path} is not a readable database: ${err.message} (${code}); move it aside to start afresh`,
        { cause: err },
      );
    }
    if (!isUnwritableSqliteCode(code)) return undefined;
    return unwritable(path, `${err.message} (${code})`, err);
  }
  if (!UNWRITABLE_OS_CODES.has(code)) return undefined;
  return unwritable(path, `${osReason(err)} (${code})`, err);
}

function unwritable(path: string, reason: string, cause: unknown): StoreError {
  return new StoreError(
    'SY_ERR_STATE_UNWRITABLE',
    path,
    `cannot write switchyard state at ${path}: ${reason}; make \`state:\` a writable directory with free space`,
    { cause },
  );
}

function isUnwritableSqliteCode(code: string): boolean {
  return (
    code === 'SQLITE_FULL' ||
    code === 'SQLITE_PERM' ||
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_IOERR')
  );
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** "not a directory" out of Node's "ENOTDIR: not a directory, mkdir '/x/y'". */
function osReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const match = /^[A-Z0-9_]+: ([^,]+)/.exec(message);
  return match?.[1] ?? message;
}
