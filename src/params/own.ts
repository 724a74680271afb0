/**
 * Name lookups in plain-object tables. `table[name]` with a name from a user's file also finds what every
 * object inherits (`constructor`, `toString`, `__proto__`, ...), and `name in table` says yes to them; a
 * config saying `dtype: constructor` then reached a function. Every lookup of a user-given name in an
 * object table goes through these (Maps and arrays need nothing).
 */
export function hasOwnKey(table: object, key: string): boolean {
  return Object.hasOwn(table, key);
}

/** table[key] when key is the table's own entry, else undefined. */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
