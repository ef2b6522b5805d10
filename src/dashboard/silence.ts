/** The silence lengths the watch page offers; the form's value is the key. */
export const SILENCE_CHOICES = {
  '1h': { text: '1 hour', ms: 3_600_000 },
  '4h': { text: '4 hours', ms: 4 * 3_600_000 },
  '24h': { text: '24 hours', ms: 24 * 3_600_000 },
  '7d': { text: '7 days', ms: 7 * 86_400_000 },
} as const;

export type SilenceChoice = keyof typeof SILENCE_CHOICES;
