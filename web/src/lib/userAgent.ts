// A session's User-Agent as people recognise their devices: "Firefox on
// Windows". Only what the list needs; an unknown agent shows as given.

const BROWSERS: [RegExp, string][] = [
  [/Edg\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/Firefox\//, "Firefox"],
  [/HeadlessChrome\//, "Headless Chrome"],
  [/Chromium\//, "Chromium"],
  [/Chrome\//, "Chrome"],
  [/Version\/[\d.]+.*Safari\//, "Safari"],
  [/^node|undici/i, "Node.js"],
  [/^curl\//, "curl"],
];

const SYSTEMS: [RegExp, string][] = [
  [/Android/, "Android"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Windows/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

export function describeUserAgent(ua: string): string {
  const trimmed = ua.trim();
  if (!trimmed) return "Unknown device";
  const browser = BROWSERS.find(([re]) => re.test(trimmed))?.[1];
  const system = SYSTEMS.find(([re]) => re.test(trimmed))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  return trimmed.length > 60 ? `${trimmed.slice(0, 57)}…` : trimmed;
}
