/** Commander argument parsers for options given several times. */

/** `--object A --object B,C` → [A, B, C]: repeated, or separated with commas. */
export function listOption(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/** `--where "a, b" --where c` → ["a, b", c]: repeated, each kept whole (it may hold commas). */
export function repeatOption(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
