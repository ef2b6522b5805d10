/** A stored millisecond time as the API shows it (ISO 8601), null kept null. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
