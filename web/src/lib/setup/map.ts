// The practice's position on OpenStreetMap, opened in a new tab: the page itself loads no tiles
// and no script from another origin (its CSP stays strict).
export function mapUrl(latitude: number, longitude: number): string {
  const lat = latitude.toFixed(5);
  const lon = longitude.toFixed(5);
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
}
