/**
 * Cutting text to a service's limit (pure), in whole code points so that a surrogate pair
 * or an emoji is never split, with "…" marking the cut.
 */
export function cutText(text: string, maxChars: number): string {
  const chars = Array.from(text);
  return chars.length <= maxChars ? text : `${chars.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}

/** The same for a limit in UTF-8 bytes (ntfy counts its message in bytes). */
export function cutToBytes(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).byteLength <= maxBytes) return text;
  const budget = maxBytes - encoder.encode('…').byteLength;
  let used = 0;
  let kept = '';
  for (const char of text) {
    const size = encoder.encode(char).byteLength;
    if (used + size > budget) break;
    used += size;
    kept += char;
  }
  return `${kept}…`;
}
