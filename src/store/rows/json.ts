/**
 * JSON helpers for catalog columns, shared by every engine: a column holds text the vault wrote
 * itself, so its shape is trusted and only named, not checked.
 */

/** Parses a JSON column the vault wrote, typed as the caller knows it to be. */
export const parseJson = <T>(text: string): T => JSON.parse(text) as T;
