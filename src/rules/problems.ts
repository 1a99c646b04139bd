// What a rule file's parser found wrong (errors) or doubtful (warnings), each line
// naming the file and the JSON path. Shared by every rule file's parser.

/** What a rule file's parser returns: the normalised value when there was no error. */
export interface ParseResult<T> {
  readonly value?: T;
  readonly errors: string[];
  readonly warnings: string[];
}

export class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }
  error(path: string, reason: string): void {
    this.errors.push(`${this.file}: ${path}: ${reason}`);
  }
  warn(path: string, reason: string): void {
    this.warnings.push(`${this.file}: ${path}: ${reason}`);
  }
  /** An error for each property not in `allowed`; false when there was one. */
  keys(obj: Record<string, unknown>, path: string, allowed: readonly string[]): boolean {
    let ok = true;
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        this.error(`${path}.${k}`, `unknown property "${k}" (allowed: ${allowed.join(', ')})`);
        ok = false;
      }
    }
    return ok;
  }
}
