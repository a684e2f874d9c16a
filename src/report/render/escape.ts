/**
 * Escaping for text that came from result files (system names, cell labels, error
 * messages, hostnames) before it goes into HTML or SVG. One function serves text nodes
 * and quoted attributes alike, because it escapes both quote kinds.
 */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

