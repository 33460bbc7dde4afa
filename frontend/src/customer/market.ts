// The migration's market: the country the customer trades in. The engine
// reads national phone numbers (without a country code) in it when a file
// says nothing about its country, and uses its convention (month or day
// first) for date columns that read both ways. Ops set it at invite time;
// the customer can change it with the checklist (PUT
// /migrations/{id}/checklist, `market`).

export interface MarketChoice {
  code: string;
  label: string;
}

const MARKETS: MarketChoice[] = [
  { code: 'GB', label: 'United Kingdom' },
  { code: 'IE', label: 'Ireland' },
  { code: 'US', label: 'United States' },
  { code: 'CA', label: 'Canada' },
  { code: 'AU', label: 'Australia' },
  { code: 'NZ', label: 'New Zealand' },
  { code: 'FR', label: 'France' },
  { code: 'DE', label: 'Germany' },
  { code: 'AT', label: 'Austria' },
  { code: 'CH', label: 'Switzerland' },
  { code: 'BE', label: 'Belgium' },
  { code: 'NL', label: 'Netherlands' },
  { code: 'ES', label: 'Spain' },
  { code: 'PT', label: 'Portugal' },
  { code: 'IT', label: 'Italy' },
  { code: 'ZA', label: 'South Africa' },
  { code: 'IN', label: 'India' },
];

/** The choices for the market select: "not set" first, then the common markets; a current market not in the list is kept. */
export function marketChoices(current: string): MarketChoice[] {
  const out = [{ code: '', label: 'Not set: read from each file' }, ...MARKETS];
  if (current && !MARKETS.some((m) => m.code === current)) out.push({ code: current, label: current });
  return out;
}
