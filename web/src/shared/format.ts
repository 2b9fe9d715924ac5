// Money arrives as decimal strings and times as RFC 3339 UTC: shown as they are, never through floats.

export function money(amount: string | null | undefined, currency?: string | null): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  return currency ? `${amount} ${currency.toUpperCase()}` : amount;
}

export function dateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) return value;
  return parsed.toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC").replace(/Z$/, " UTC");
}

export function shortId(id: string | null | undefined): string {
  if (!id) return "—";
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}

export function toRfc3339(local: string): string {
  // <input type="datetime-local"> gives "YYYY-MM-DDTHH:MM" in UTC here (the console shows UTC).
  return local.length === 16 ? `${local}:00Z` : local;
}
